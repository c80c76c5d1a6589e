package tables

import (
	"fmt"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Stripe assigns ids that are strings, and the MySQL OK packet carries only
// an integer LAST_INSERT_ID, so the ids an INSERT created reach the client
// through two functions, scoped to the session like LAST_INSERT_ID():
//
//	INSERT INTO Customers (Name) VALUES ('abc');
//	SELECT stripe_last_insert_id();   -- 'cus_…'
//	SELECT stripe_last_insert_ids();  -- JSON array of every id of that INSERT
//
// Neither makes a Stripe call.

// Function names, as SQL spells them (the engine looks names up in lower case).
const (
	LastInsertIDFunction  = "stripe_last_insert_id"
	LastInsertIDsFunction = "stripe_last_insert_ids"
)

// Functions returns the SQL functions of the database, for
// server.Config.Functions (which registers them with the engine's
// catalog before the server starts). It also registers the database's
// system variables.
func (d *Database) Functions() []sql.Function {
	RegisterSystemVariables()
	return []sql.Function{
		sql.Function0{Name: LastInsertIDFunction, Fn: func(*sql.Context) sql.Expression {
			return &lastInsertID{db: d}
		}},
		sql.Function0{Name: LastInsertIDsFunction, Fn: func(*sql.Context) sql.Expression {
			return &lastInsertID{db: d, all: true}
		}},
	}
}

// insertedIDs remembers, per session, the ids written by its last INSERT
// that reached Stripe. Entries of sessions that ended are never told apart
// from live ones (the engine has no hook for that), so the map keeps only
// the most recent sessions.
type insertedIDs struct {
	mu    sync.Mutex
	ids   map[uint32][]string
	order []uint32 // sessions, least recently written first
}

// maxSessions bounds insertedIDs; a session older than the last
// maxSessions sessions that inserted forgets its ids.
const maxSessions = 4096

func newInsertedIDs() *insertedIDs {
	return &insertedIDs{ids: make(map[uint32][]string)}
}

func (s *insertedIDs) set(session uint32, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[session]; ok {
		for i, o := range s.order {
			if o == session {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	} else if len(s.order) >= maxSessions {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[session] = append([]string(nil), ids...)
	s.order = append(s.order, session)
}

func (s *insertedIDs) get(session uint32) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[session]
}

// lastInsertID is the expression of both functions.
type lastInsertID struct {
	db  *Database
	all bool // stripe_last_insert_ids: every id, as a JSON array
}

var (
	_ sql.FunctionExpression         = (*lastInsertID)(nil)
	_ sql.NonDeterministicExpression = (*lastInsertID)(nil)
	_ sql.CollationCoercible         = (*lastInsertID)(nil)
)

func (f *lastInsertID) FunctionName() string {
	if f.all {
		return LastInsertIDsFunction
	}
	return LastInsertIDFunction
}

func (f *lastInsertID) Description() string {
	if f.all {
		return "returns the Stripe ids created by this session's last INSERT, as a JSON array."
	}
	return "returns the Stripe id created by this session's last INSERT (the first, for several rows)."
}

func (f *lastInsertID) String() string             { return f.FunctionName() + "()" }
func (f *lastInsertID) Resolved() bool             { return true }
func (f *lastInsertID) Children() []sql.Expression { return nil }

// IsNonDeterministic keeps the engine from folding the call into a
// constant: its value changes with every INSERT.
func (f *lastInsertID) IsNonDeterministic() bool { return true }

func (f *lastInsertID) Type(*sql.Context) sql.Type {
	if f.all {
		return types.JSON
	}
	return varchar255
}

func (f *lastInsertID) IsNullable(*sql.Context) bool { return !f.all }

func (f *lastInsertID) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	// Like other system functions (USER(), DATABASE()): coercibility 3.
	return sql.Collation_Default, 3
}

func (f *lastInsertID) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 0)
	}
	return f, nil
}

// Eval returns the session's last inserted id (NULL if it inserted
// nothing yet), or all of them as a JSON array ([] if none).
func (f *lastInsertID) Eval(ctx *sql.Context, _ sql.Row) (any, error) {
	if ctx == nil || ctx.Session == nil {
		return nil, fmt.Errorf("%s: no session", f.FunctionName())
	}
	ids := f.db.writes().inserted.get(ctx.Session.ID())
	if f.all {
		arr := make([]any, len(ids))
		for i, id := range ids {
			arr[i] = id
		}
		return types.JSONDocument{Val: arr}, nil
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids[0], nil
}
