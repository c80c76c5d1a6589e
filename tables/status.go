package tables

import (
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/go-mysql-server/sql/variables"
)

// Status variables shown by SHOW STATUS LIKE 'stripe%'. They are session
// values: each session sees its own last query, and the client totals of
// the server it is connected to.
const (
	// StatusCalls is the number of Stripe calls (retrieves, list and search
	// pages) the session's last query that read a Stripe table made.
	StatusCalls = "Stripe_calls"
	// StatusRequests, StatusRetries and StatusThrottledMillis are the
	// client's totals since the server started: HTTP attempts, retries, and
	// milliseconds spent waiting for the rate limiter.
	StatusRequests        = "Stripe_requests"
	StatusRetries         = "Stripe_retries"
	StatusThrottledMillis = "Stripe_throttled_ms"
)

var stripeStatus = []string{StatusCalls, StatusRequests, StatusRetries, StatusThrottledMillis}

// statusRegistry adds stripesql's session status variables to GMS's
// registry. GMS has no API to add status variables and keeps them in the
// process-wide sql.StatusVariables, which every new session copies; this
// wrapper, installed once by registerReadVariables, is the only way in.
type statusRegistry struct {
	sql.StatusVariableRegistry
}

func (r statusRegistry) NewSessionMap() map[string]sql.StatusVarValue {
	m := r.StatusVariableRegistry.NewSessionMap()
	for _, name := range stripeStatus {
		m[name] = &sql.MutableStatusVarValue{
			Var: &sql.MySQLStatusVariable{Name: name, Scope: sql.StatusVariableScope_Session, Type: types.Uint64, Default: uint64(0)},
			Val: &atomic.Uint64{},
		}
	}
	return m
}

func installStatusVariables() {
	if sql.StatusVariables == nil {
		variables.InitStatusVariables()
	}
	if _, done := sql.StatusVariables.(statusRegistry); !done {
		sql.StatusVariables = statusRegistry{sql.StatusVariables}
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
