package tables

// Outcomes of writes. Every Stripe write a statement makes ends in one of
// three ways, and a statement reports each of its rows accordingly:
//
//   - applied: Stripe answered with the object (or verified it gone, for a
//     delete or cancel whose earlier attempt may have executed);
//   - refused: Stripe answered with an error that says it did not execute
//     the request (a 4xx other than 409 and 429);
//   - unknown: no definitive answer before the retries ran out, after an
//     attempt that may have executed.
//
// Rows after the one a statement stopped at are "not sent". An unknown
// outcome is its own MySQL error (ErrWriteOutcomeUnknown), which names the
// idempotency key to retry with: every POST of a statement carries a key
// derived from one base (the session's stripe_idempotency_key, or a random
// one), so running the same statement again with that base replays what
// was applied instead of applying it twice.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/stripesql/stripesql/stripeapi"
)

// ErrWriteOutcomeUnknown and StateWriteOutcomeUnknown are the MySQL error
// code and SQLSTATE of a statement with a write whose outcome is unknown.
// The code is in the range MySQL leaves to third parties (50000-51999);
// SQLSTATE 08007 is the SQL standard's "transaction resolution unknown".
const (
	ErrWriteOutcomeUnknown   = 50001
	StateWriteOutcomeUnknown = "08007"
)

// outcome is what became of one write.
type outcome string

const (
	outcomePending outcome = "pending" // logged before sending: no answer yet
	outcomeApplied outcome = "applied"
	outcomeRefused outcome = "refused"
	outcomeUnknown outcome = "unknown"
	outcomeNotSent outcome = "not sent"
)

// maxKeyBase bounds a session's stripe_idempotency_key, leaving room in
// Stripe's 255 characters for the ":" and the row number or object id.
const maxKeyBase = 160

// writeStatement is the statement a write belongs to: what the write log
// records of it, and the base its idempotency keys derive from.
type writeStatement struct {
	verb  string // INSERT, UPDATE, DELETE or CALL
	table string // the table or procedure
	base  string // idempotency key base
	text  string // the statement with its literals redacted
	login string // the session's user
	conn  uint32
	// account is the Connect account written to (SET stripe_account),
	// "" for the server's: a retry must go to the same one, since Stripe
	// scopes idempotency keys by account.
	account string
}

// beginStatement starts the writes of a statement. It takes the session's
// stripe_idempotency_key, which applies to this statement only (so the
// next statement does not replay this one's answers), or makes a random
// base. A key Stripe could not take is refused before any request.
func (d *Database) beginStatement(ctx *sql.Context, verb, table string) (*writeStatement, error) {
	st := &writeStatement{verb: verb, table: table, text: redactedStatement(ctx)}
	if ctx != nil {
		st.account = sessionOptions(ctx).account
	}
	if ctx != nil && ctx.Session != nil {
		st.login = ctx.Session.Client().User
		st.conn = ctx.Session.ID()
	}
	key := ""
	if ctx != nil {
		if v, err := ctx.GetSessionVariable(ctx, IdempotencyKeyVariable); err == nil {
			key = strings.TrimSpace(toString(v))
		}
	}
	if key == "" {
		st.base = randomKeyBase()
		return st, nil
	}
	if len(key) > maxKeyBase || strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r > '~' }) {
		// 1231 is ER_WRONG_VALUE_FOR_VAR.
		return nil, mysql.NewSQLError(1231, "42000",
			"%s must be at most %d printable ASCII characters (Stripe takes keys of up to 255, and stripesql appends the row)",
			IdempotencyKeyVariable, maxKeyBase)
	}
	st.base = key
	if err := ctx.SetSessionVariable(ctx, IdempotencyKeyVariable, ""); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", IdempotencyKeyVariable, err)
	}
	return st, nil
}

// randomKeyBase is a fresh key base: 96 random bits, so that keys of
// concurrent statements (and processes) never collide.
func randomKeyBase() string {
	var b [12]byte
	rand.Read(b[:]) // never fails: it crashes the program instead
	return "sq_" + hex.EncodeToString(b[:])
}

// key derives the idempotency key of one write: base:suffix.
func (st *writeStatement) key(suffix string) string { return st.base + ":" + suffix }

// redactedStatement is the statement being executed with its literals
// replaced by placeholders: the write log keeps what was run, never the
// values (which may hold card data or personal data).
func redactedStatement(ctx *sql.Context) string {
	if ctx == nil || ctx.Query() == "" {
		return ""
	}
	q := ctx.Query()
	if stmt, _, err := sqlparser.ParseOne(ctx, q); err == nil {
		q = sqlparser.String(stmt)
		if r, err := sqlparser.RedactSQLQuery(q); err == nil {
			return r
		}
	}
	// Unparseable (or unredactable): keep only its first word.
	verb, _, _ := strings.Cut(strings.TrimSpace(q), " ")
	return verb + " …"
}

// writeCall is one Stripe write of a statement.
type writeCall struct {
	row    int // the row's position in the statement, from 1
	method string
	path   string
	params stripeapi.Params
	key    string // Idempotency-Key (POST)
	id     string // the object's id, when known before the call
	// verify confirms that a delete or cancel whose earlier attempt may
	// have executed has taken effect; nil for writes that cannot be.
	verify *verification
}

// verification is how to tell, with a retrieve, that a delete or cancel
// has taken effect: the object is gone, marked deleted, or in status.
type verification struct {
	path   string
	status string // "" for a delete
}

// writeResult is the outcome of one writeCall.
type writeResult struct {
	call      *writeCall
	outcome   outcome
	obj       stripeapi.Object
	id        string
	err       error // Stripe's refusal, the last failure, or why not sent
	requestID string
	attempts  int
}

// write sends one call of st, logging it before and after, and
// classifies its outcome. It never returns an error: the result says.
func (d *Database) write(ctx *sql.Context, st *writeStatement, call *writeCall) writeResult {
	res := writeResult{call: call, id: call.id}
	seq, err := d.writes().log.begin(st, call)
	if err != nil {
		// Nothing is sent that the durable log could not record.
		res.outcome, res.err = outcomeNotSent, err
		return res
	}
	var info stripeapi.CallInfo
	opts := []stripeapi.RequestOption{accountOption(ctx), stripeapi.WithCallInfo(&info)}
	if call.key != "" {
		opts = append(opts, stripeapi.WithIdempotencyKey(call.key))
	}
	var obj stripeapi.Object
	switch call.method {
	case http.MethodDelete:
		obj, err = d.client.Delete(ctx, call.path, call.params, opts...)
	default:
		obj, err = d.client.Post(ctx, call.path, call.params, opts...)
	}
	res.requestID, res.attempts = info.RequestID, info.Attempts
	var apiErr *stripeapi.Error
	switch {
	case err == nil:
		res.outcome, res.obj = outcomeApplied, obj
		if id := obj.ID(); id != "" {
			res.id = id
		}
	case stripeapi.IsOutcomeUnknown(err):
		res.outcome, res.err = outcomeUnknown, err
		if d.verified(ctx, call) {
			res.outcome, res.err = outcomeApplied, nil
		}
	case errors.As(err, &apiErr):
		res.outcome, res.err = outcomeRefused, err
		// Stripe answers a repeated delete or cancel with 404 or "already
		// canceled": if an earlier attempt may have executed, it was
		// probably this statement's, which a retrieve confirms.
		if info.Ambiguous && d.verified(ctx, call) {
			res.outcome, res.err = outcomeApplied, nil
		}
	case info.Ambiguous:
		res.outcome, res.err = outcomeUnknown, err
	default:
		// Never reached Stripe: the connection was refused, or the
		// statement was cancelled while waiting for its turn.
		res.outcome, res.err = outcomeNotSent, err
	}
	d.writes().log.finish(seq, res)
	d.applyToMirror(ctx, st, call, &res)
	return res
}

// verified reports whether call's delete or cancel has taken effect,
// by a retrieve. Any doubt (no verification, the retrieve fails) is no.
func (d *Database) verified(ctx *sql.Context, call *writeCall) bool {
	v := call.verify
	if v == nil {
		return false
	}
	// The statement's own context may be what ended the write (KILL
	// QUERY, a deadline); the check is short and bounded on its own.
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	obj, err := d.client.Get(vctx, v.path, nil, accountOption(ctx))
	switch {
	case stripeapi.IsNotFound(err):
		return v.status == ""
	case err != nil:
		return false
	case v.status == "":
		deleted, _ := obj["deleted"].(bool)
		return deleted
	}
	status, _ := obj["status"].(string)
	return status == v.status
}

// report is the MySQL error of a statement that stopped at the last of
// results (refused, unknown or not sent); the results before it were all
// applied, and the rows after it, up to total, were not sent. past is the
// verb's participle: written, updated, deleted.
func (st *writeStatement) report(past string, results []writeResult, total int) error {
	last := results[len(results)-1]
	var ids []string
	for _, r := range results[:len(results)-1] {
		ids = append(ids, r.id)
	}
	var b strings.Builder
	if last.outcome == outcomeUnknown {
		b.WriteString("outcome unknown: ")
	}
	fmt.Fprintf(&b, "%d %s %s", len(ids), plural(len(ids), "row", "rows"), past)
	if len(ids) > 0 {
		b.WriteString(" (" + idList(ids) + ")")
	}
	switch last.outcome {
	case outcomeUnknown:
		fmt.Fprintf(&b, ", row %d", last.call.row)
		if last.call.id != "" {
			fmt.Fprintf(&b, " (%s)", last.call.id)
		}
		b.WriteString(" unknown")
		if last.call.key != "" {
			fmt.Fprintf(&b, " (key %s)", last.call.key)
		}
		b.WriteString(": " + last.err.Error())
	default:
		fmt.Fprintf(&b, ", stopped at row %d", last.call.row)
		if last.call.id != "" {
			fmt.Fprintf(&b, " (%s)", last.call.id)
		}
		if last.outcome == outcomeNotSent {
			b.WriteString(", not sent")
		}
		b.WriteString(": " + last.err.Error())
	}
	if rest := total - last.call.row; rest > 0 {
		first := last.call.row + 1
		if rest == 1 {
			fmt.Fprintf(&b, "; row %d not sent", first)
		} else {
			fmt.Fprintf(&b, "; rows %d-%d not sent", first, total)
		}
	}
	if last.outcome != outcomeUnknown {
		return mysql.NewSQLError(1644, "45000", "%s", b.String())
	}
	b.WriteString(". " + st.retryAdvice())
	return mysql.NewSQLError(ErrWriteOutcomeUnknown, StateWriteOutcomeUnknown, "%s", b.String())
}

// retryAdvice tells how to repeat the statement safely.
func (st *writeStatement) retryAdvice() string {
	if st.verb == "DELETE" {
		return "Running the statement again is safe: an object already deleted is not found again"
	}
	return fmt.Sprintf("Retrying is safe: SET %s = '%s' and run the same statement again; "+
		"what was applied is replayed by Stripe, not applied twice", IdempotencyKeyVariable, st.base)
}
