package tables

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// SHOW STATUS shows each mirrored table's state, server-wide:
//
//	Stripe_mirror_Customers_state           ready | backfilling | failed: …
//	Stripe_mirror_Customers_objects         objects held
//	Stripe_mirror_Customers_backfilled      objects written by the current or last backfill
//	Stripe_mirror_Customers_events_applied  events applied since the store was made
//	Stripe_mirror_Customers_lag_ms          how far behind Stripe the table is
//
// They are read from the mirror each time they are shown.

// mirrorStatusPrefix begins the names of the mirror's status variables.
const mirrorStatusPrefix = "Stripe_mirror_"

// mirrorStatusFields are the status variables of one table, by suffix.
var mirrorStatusFields = []struct {
	suffix string
	typ    sql.Type
	read   func(mirrorStatus) any
}{
	{"_state", types.LongText, func(s mirrorStatus) any { return s.State }},
	{"_objects", types.Int64, func(s mirrorStatus) any { return s.Objects }},
	{"_backfilled", types.Int64, func(s mirrorStatus) any { return s.Backfilled }},
	{"_events_applied", types.Int64, func(s mirrorStatus) any { return s.EventsApplied }},
	{"_lag_ms", types.Int64, func(s mirrorStatus) any { return s.Lag.Milliseconds() }},
}

// showMirrorStatus makes the status variables show m's tables.
func showMirrorStatus(m Mirror) {
	registerReadVariables()
	if r, ok := sql.StatusVariables.(statusRegistry); ok {
		r.src.mirror.Store(&mirrorRef{m: m})
	}
}

// mirrorStatusVars are the mirror's status variables now, by name.
func (s *statsSource) mirrorStatusVars() map[string]sql.StatusVarValue {
	ref := s.mirror.Load()
	if ref == nil || ref.m == nil {
		return nil
	}
	m := ref.m
	out := map[string]sql.StatusVarValue{}
	for _, st := range m.Status() {
		for _, f := range mirrorStatusFields {
			name := mirrorStatusPrefix + st.Table + f.suffix
			table, read := st.Table, f.read
			out[name] = &mirrorStatusValue{
				v: &sql.MySQLStatusVariable{Name: name, Scope: sql.StatusVariableScope_Global, Type: f.typ},
				read: func() any {
					for _, now := range m.Status() {
						if now.Table == table {
							return read(now)
						}
					}
					return nil
				},
			}
		}
	}
	return out
}

// mirrorStatusGlobal finds one of the mirror's status variables by name.
func (s *statsSource) mirrorStatusGlobal(name string) (sql.StatusVariable, any, bool) {
	if !strings.HasPrefix(strings.ToLower(name), strings.ToLower(mirrorStatusPrefix)) {
		return nil, nil, false
	}
	for n, v := range s.mirrorStatusVars() {
		if strings.EqualFold(n, name) {
			return v.Variable(), v.Value(), true
		}
	}
	return nil, nil, false
}

// mirrorStatusValue is a status value read from the mirror when shown.
type mirrorStatusValue struct {
	v    sql.StatusVariable
	read func() any
}

func (s *mirrorStatusValue) Increment(uint64) error       { return nil }
func (s *mirrorStatusValue) Set(any) error                { return nil }
func (s *mirrorStatusValue) Value() any                   { return s.read() }
func (s *mirrorStatusValue) Variable() sql.StatusVariable { return s.v }
func (s *mirrorStatusValue) Copy() sql.StatusVarValue     { return s }
