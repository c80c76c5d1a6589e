package tables

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/go-mysql-server/sql/variables"

	"github.com/stripesql/stripesql/stripeapi"
)

// Status variables shown by SHOW [GLOBAL] STATUS LIKE 'stripe%'.
const (
	// StatusCalls is the number of Stripe calls (retrieves, list and search
	// pages) the session's last query that read a Stripe table made: a
	// session value.
	StatusCalls = "Stripe_calls"
	// StatusRequests, StatusRetries and StatusThrottledMillis are the
	// client's totals since the server started: HTTP attempts, retries, and
	// milliseconds spent waiting for the rate limiter. They are server-wide,
	// read live from the client: a new session sees the same totals.
	StatusRequests        = "Stripe_requests"
	StatusRetries         = "Stripe_retries"
	StatusThrottledMillis = "Stripe_throttled_ms"
)

// clientTotals are the server-wide status variables and how each is read
// from the client's counters.
var clientTotals = map[string]func(stripeapi.Stats) uint64{
	StatusRequests:        func(s stripeapi.Stats) uint64 { return uint64(s.Requests) },
	StatusRetries:         func(s stripeapi.Stats) uint64 { return uint64(s.Retries) },
	StatusThrottledMillis: func(s stripeapi.Stats) uint64 { return uint64(s.ThrottledWait / time.Millisecond) },
}

// statsSource is the client whose totals the status variables show.
// GMS's registry is process-wide, so the client is too: a process serves
// one Stripe client (the binary runs one server; tests that start several
// see the latest one's totals).
type statsSource struct {
	client atomic.Pointer[stripeapi.Client]
	// mirror is the mirror whose tables' state is shown (mirror_status.go).
	mirror atomic.Pointer[mirrorRef]
}

func (s *statsSource) stats() stripeapi.Stats {
	if c := s.client.Load(); c != nil {
		return c.Stats()
	}
	return stripeapi.Stats{}
}

// statusRegistry adds stripesql's status variables to GMS's registry. GMS
// has no API to add status variables and keeps them in the process-wide
// sql.StatusVariables, which every new session copies; this wrapper,
// installed once by registerReadVariables, is the only way in.
type statusRegistry struct {
	sql.StatusVariableRegistry
	src *statsSource
}

func (r statusRegistry) NewSessionMap() map[string]sql.StatusVarValue {
	m := r.StatusVariableRegistry.NewSessionMap()
	m[StatusCalls] = &sql.MutableStatusVarValue{
		Var: &sql.MySQLStatusVariable{Name: StatusCalls, Scope: sql.StatusVariableScope_Session, Type: types.Uint64, Default: uint64(0)},
		Val: &atomic.Uint64{},
	}
	r.addTotals(m)
	return m
}

func (r statusRegistry) NewGlobalMap() map[string]sql.StatusVarValue {
	m := r.StatusVariableRegistry.NewGlobalMap()
	r.addTotals(m)
	for name, v := range r.src.mirrorStatusVars() {
		m[name] = v
	}
	return m
}

func (r statusRegistry) GetGlobal(name string) (sql.StatusVariable, any, bool) {
	for total, read := range clientTotals {
		if strings.EqualFold(name, total) {
			v := r.total(total)
			return v.Variable(), read(r.src.stats()), true
		}
	}
	if v, val, ok := r.src.mirrorStatusGlobal(name); ok {
		return v, val, true
	}
	return r.StatusVariableRegistry.GetGlobal(name)
}

func (r statusRegistry) addTotals(m map[string]sql.StatusVarValue) {
	for name := range clientTotals {
		m[name] = r.total(name)
	}
}

func (r statusRegistry) total(name string) *liveStatus {
	return &liveStatus{
		v:    &sql.MySQLStatusVariable{Name: name, Scope: sql.StatusVariableScope_Both, Type: types.Uint64, Default: uint64(0)},
		read: func() uint64 { return clientTotals[name](r.src.stats()) },
	}
}

// liveStatus is a status value read from the client each time it is
// shown; setting it does nothing (the client counts).
type liveStatus struct {
	v    sql.StatusVariable
	read func() uint64
}

func (s *liveStatus) Increment(uint64) error       { return nil }
func (s *liveStatus) Set(any) error                { return nil }
func (s *liveStatus) Value() any                   { return s.read() }
func (s *liveStatus) Variable() sql.StatusVariable { return s.v }
func (s *liveStatus) Copy() sql.StatusVarValue     { return s }

func installStatusVariables() {
	if sql.StatusVariables == nil {
		variables.InitStatusVariables()
	}
	if _, done := sql.StatusVariables.(statusRegistry); !done {
		sql.StatusVariables = statusRegistry{StatusVariableRegistry: sql.StatusVariables, src: &statsSource{}}
	}
}

// showClientTotals makes the status variables show c's totals.
func showClientTotals(c *stripeapi.Client) {
	if r, ok := sql.StatusVariables.(statusRegistry); ok {
		r.src.client.Store(c)
	}
}

// setStatus records a session status value; sessions created before the
// registry was wrapped lack the variables, and simply do not show them.
func setStatus(ctx *sql.Context, name string, v uint64) {
	if ctx == nil || ctx.Session == nil {
		return
	}
	_ = ctx.Session.SetStatusVariable(ctx, name, v)
}
