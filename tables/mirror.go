package tables

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// Mirror is what the tables need of a local mirror of Stripe (package
// mirror's *Mirror): a store kept current by Stripe's event stream, from
// which reads of the tables it mirrors are answered without a Stripe call.
// It is an interface here so that tests can stand in a fake.
type Mirror interface {
	// Mirrors reports whether table (a catalog name) is mirrored at all.
	Mirrors(table string) bool
	// Ready reports whether table is backfilled and followed, and how far
	// behind Stripe its visible events are.
	Ready(table string) (ready bool, lag time.Duration)
	// Objects returns the objects of table that q may select: a superset,
	// since the engine re-checks every row.
	Objects(ctx context.Context, table string, q mirrorQuery) (mirrorIterator, error)
	// Count is the number of objects of table held.
	Count(ctx context.Context, table string) (int64, error)
	// Applied records what a write through stripesql got back from Stripe
	// (read your writes); deleted for a DELETE.
	Applied(ctx context.Context, table string, obj stripeapi.Object, deleted bool) error
	// Status is every mirrored table's state, for SHOW STATUS and errors.
	Status() []mirrorStatus
}

// SourceVariable: SET stripe_source = 'live' | 'mirror' | 'auto' chooses
// where a session's reads come from. 'auto' (the default) reads a table
// from the mirror once it is ready, and from Stripe before; 'mirror'
// insists, failing on a table the mirror cannot serve; 'live' always asks
// Stripe.
const SourceVariable = "stripe_source"

const (
	sourceAuto   = "auto"
	sourceLive   = "live"
	sourceMirror = "mirror"
)

// ErrCodeMirrorUnavailable is the MySQL error of a read that insists on
// the mirror (stripe_source = 'mirror') for a table it cannot serve:
// ER_UNKNOWN_ERROR, as MySQL has no code for a storage engine that is
// not ready.
const ErrCodeMirrorUnavailable = mysql.ERUnknownError

// SetMirror makes the database read the tables m mirrors from m (as the
// sessions' stripe_source allows) and tell m about every write. Call it
// before serving; nil turns mirroring off.
func (d *Database) SetMirror(m Mirror) {
	d.mirror.Store(&mirrorRef{m: m})
	showMirrorStatus(m)
}

// mirrorRef boxes a Mirror for an atomic pointer.
type mirrorRef struct{ m Mirror }

func (d *Database) mirrorOf() Mirror {
	if r := d.mirror.Load(); r != nil {
		return r.m
	}
	return nil
}

func sessionSource(ctx *sql.Context) string {
	if ctx == nil || ctx.Session == nil {
		return sourceAuto
	}
	v, err := ctx.GetSessionVariable(ctx, SourceVariable)
	if err != nil {
		return sourceAuto
	}
	return strings.ToLower(toString(v))
}

// routed decides where this session reads def from: true for the mirror.
// With stripe_source = 'mirror', a table the mirror cannot serve is an
// error, before any Stripe call; with 'auto' it is read live.
//
// Whatever the setting, three reads stay live: the row search of UPDATE
// and DELETE (the change is computed from the rows found, and a row a
// moment stale could make an UPDATE send nothing), reads of another
// Connect account than the server's (SET stripe_account: the mirror holds
// the server's account), and reads of a table not mirrored or not ready.
func (d *Database) routed(ctx *sql.Context, def *catalog.Table) (bool, error) {
	src := sessionSource(ctx)
	if src == sourceLive || src != sourceMirror && d.mirrorOf() == nil {
		return false, nil // no mirror: the common case costs no more
	}
	if d.notRoutable(ctx, def, false) == "" {
		return true, nil
	}
	if src != sourceMirror || findsRowsForWrite(ctx) {
		return false, nil
	}
	why := d.notRoutable(ctx, def, true)
	return false, mysql.NewSQLError(ErrCodeMirrorUnavailable, "HY000",
		"stripe_source = 'mirror': %s; SET stripe_source = 'auto' to read it from Stripe meanwhile", why)
}

// notRoutable says why def cannot be read from the mirror now, or "".
// Unless explain, the reason is only "-": auto's reads of tables that are
// not mirrored run often, and need no message.
func (d *Database) notRoutable(ctx *sql.Context, def *catalog.Table, explain bool) string {
	m := d.mirrorOf()
	why := func(format string, args ...any) string {
		if !explain {
			return "-"
		}
		return fmt.Sprintf(format, args...)
	}
	if m == nil {
		return why("table %s is not mirrored: stripesql runs without a mirror (start it with --mirror %s or --mirror all)", def.Name, def.Name)
	}
	if !m.Mirrors(def.Name) {
		if !explain {
			return "-"
		}
		return why("table %s is not mirrored (mirrored: %s)", def.Name, mirroredNames(m))
	}
	if account := sessionOptions(ctx).account; account != "" && account != d.client.Account() {
		return why("table %s is mirrored for the server's account, and this session acts on %s (stripe_account)", def.Name, account)
	}
	if ready, _ := m.Ready(def.Name); !ready {
		if !explain {
			return "-"
		}
		return why("table %s is not ready in the mirror (%s)", def.Name, describeState(m, def.Name))
	}
	if findsRowsForWrite(ctx) {
		return why("UPDATE and DELETE find the rows of %s in Stripe", def.Name)
	}
	return ""
}

// routedAtPlan is routed for planning (EXPLAIN, the choice of lookups):
// an error is left for execution to report.
func (d *Database) routedAtPlan(ctx *sql.Context, def *catalog.Table) bool {
	ok, err := d.routed(ctx, def)
	return ok && err == nil
}

// describeState is a mirrored table's state for an error: "backfilling,
// 1200 objects backfilled so far", "ready, lag 1.4 s", "failed: …".
func describeState(m Mirror, table string) string {
	for _, s := range m.Status() {
		if s.Table != table {
			continue
		}
		switch {
		case strings.HasPrefix(s.State, "backfilling"):
			return fmt.Sprintf("%s, %d objects backfilled so far", s.State, s.Backfilled)
		case s.State == "ready":
			return fmt.Sprintf("ready, lag %s", lagText(s.Lag))
		}
		return s.State
	}
	return "unknown state"
}

// lagText shows a lag in seconds with one decimal, as EXPLAIN prints it.
func lagText(lag time.Duration) string {
	return fmt.Sprintf("%.1f s", lag.Seconds())
}

// mirroredNamesSorted are the mirrored tables' names, sorted.
func mirroredNamesSorted(m Mirror) []string {
	var names []string
	for _, s := range m.Status() {
		names = append(names, s.Table)
	}
	sort.Strings(names)
	return names
}

// mirroredNames lists the mirrored tables for an error message.
func mirroredNames(m Mirror) string {
	names := mirroredNamesSorted(m)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// findsRowsForWrite reports a statement that reads a table to find the
// rows it changes: UPDATE, DELETE, REPLACE.
func findsRowsForWrite(ctx *sql.Context) bool {
	if ctx == nil {
		return false
	}
	q := skipComments(ctx.Query())
	end := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(q)
	}
	word := q[:end]
	switch strings.ToLower(word) {
	case "update", "delete", "replace":
		return true
	}
	return false
}

// skipComments drops the spaces and comments before a statement's first
// word (/* … */, -- …, # …).
func skipComments(q string) string {
	for {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		switch {
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q[2:], "*/")
			if end < 0 {
				return ""
			}
			q = q[2+end+2:]
		case strings.HasPrefix(q, "--"), strings.HasPrefix(q, "#"):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return ""
			}
			q = q[end+1:]
		default:
			return q
		}
	}
}
