package tables

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Session variables that steer how queries reach Stripe.
const (
	// SearchVariable: SET stripe_search = 'off' forbids the Search API, so
	// every read is an exact, read-after-write consistent list or retrieve.
	SearchVariable = "stripe_search"
	// PushdownVariable: SET stripe_pushdown = 'off' reads whole tables and
	// leaves every filter to the engine (for comparing answers, and a
	// last resort should a pushed filter ever be suspected).
	PushdownVariable = "stripe_pushdown"
	// MaxCallsVariable: SET stripe_max_calls = N caps the Stripe calls of
	// one query; 0 means no cap.
	MaxCallsVariable = "stripe_max_calls"
	// AccountVariable: SET stripe_account = 'acct_…' acts on a Connect
	// account for the session (Stripe-Account header); empty means the
	// server's --account.
	AccountVariable = "stripe_account"
	// IdempotencyKeyVariable: SET stripe_idempotency_key = 'order-8812'
	// makes the next write statement derive its idempotency keys from
	// it (order-8812:1, order-8812:2, … by row; order-8812:<id> for
	// UPDATE), so running the same statement again with the same key,
	// from any connection, applies nothing twice. The statement clears it.
	IdempotencyKeyVariable = "stripe_idempotency_key"
)

var registerReadVariablesOnce sync.Once

// registerReadVariables adds the read-path variables to GMS's process-wide
// registry (the only place variables can live; see RegisterSystemVariables
// for the same reasoning). The definitions are constants.
func registerReadVariables() {
	registerReadVariablesOnce.Do(func() {
		installStatusVariables()
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
			&sql.MysqlSystemVariable{
				Name: AccountVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemStringType(AccountVariable), Default: "",
			},
			&sql.MysqlSystemVariable{
				Name: IdempotencyKeyVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Session), Dynamic: true,
				Type: types.NewSystemStringType(IdempotencyKeyVariable), Default: "",
			},
			&sql.MysqlSystemVariable{
				Name: SearchVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemEnumType(SearchVariable, "on", "off"), Default: "on",
			},
			&sql.MysqlSystemVariable{
				Name: PushdownVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemEnumType(PushdownVariable, "on", "off"), Default: "on",
			},
			&sql.MysqlSystemVariable{
				Name: SourceVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemEnumType(SourceVariable, sourceAuto, sourceLive, sourceMirror), Default: sourceAuto,
			},
			&sql.MysqlSystemVariable{
				Name: MaxCallsVariable, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
				Type: types.NewSystemIntType(MaxCallsVariable, 0, 1<<31, false), Default: int64(0),
			},
		})
	})
}

// readOptions are the session's choices for the read path.
type readOptions struct {
	pushdown, search bool
	maxCalls         int64
	account          string
}

func sessionOptions(ctx *sql.Context) readOptions {
	opts := readOptions{pushdown: true, search: true}
	if v, err := ctx.GetSessionVariable(ctx, PushdownVariable); err == nil {
		opts.pushdown = !strings.EqualFold(toString(v), "off")
	}
	if v, err := ctx.GetSessionVariable(ctx, SearchVariable); err == nil {
		opts.search = !strings.EqualFold(toString(v), "off")
	}
	if v, err := ctx.GetSessionVariable(ctx, AccountVariable); err == nil {
		opts.account = toString(v)
	}
	if v, err := ctx.GetSessionVariable(ctx, MaxCallsVariable); err == nil {
		if n, ok := v.(int64); ok {
			opts.maxCalls = n
		}
	}
	return opts
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// SetSessionDefaults sets what SET stripe_account = DEFAULT and
// SET stripe_max_calls = DEFAULT go back to, and what new sessions start
// with: the server's --account and --max-calls. GMS keeps defaults in its
// process-wide registry, so one process serves one set of defaults (the
// binary runs one server).
func SetSessionDefaults(account string, maxCalls int64) error {
	registerReadVariables()
	ctx := sql.NewEmptyContext()
	if err := sql.SystemVariables.SetGlobal(ctx, AccountVariable, account); err != nil {
		return err
	}
	return sql.SystemVariables.SetGlobal(ctx, MaxCallsVariable, maxCalls)
}
