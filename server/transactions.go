package server

// Transactions that tell the truth. The database's writes cannot be undone
// (they go to Stripe as their statement runs), so a session's transaction
// only remembers where in the database's record of writes it, and each of
// its savepoints, began; ROLLBACK hands that mark to the Ledger, which
// warns (or fails) about the writes made since. Without a Ledger sessions
// are plain GMS sessions, where BEGIN and ROLLBACK do nothing.

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// Ledger is told about rollbacks.
type Ledger interface {
	// Mark is the current position in the record of writes.
	Mark() int64
	// RolledBack is called when connection conn rolls back to mark: the
	// writes it made since stay. It may warn on ctx, or fail.
	RolledBack(ctx *sql.Context, conn uint32, mark int64) error
}

// txSession is a session whose transactions mark the record of writes.
type txSession struct {
	*sql.BaseSession
	ledger Ledger
}

var _ sql.TransactionSession = (*txSession)(nil)

// transaction is one transaction: where it began and its savepoints.
type transaction struct {
	mark int64
	mu   sync.Mutex
	// savepoints by lower-cased name (savepoint names are case-insensitive).
	savepoints map[string]int64
}

func (t *transaction) String() string   { return fmt.Sprintf("transaction from write %d", t.mark) }
func (t *transaction) IsReadOnly() bool { return false }

func (s *txSession) StartTransaction(*sql.Context, sql.TransactionCharacteristic) (sql.Transaction, error) {
	return &transaction{mark: s.ledger.Mark()}, nil
}

func (s *txSession) CommitTransaction(*sql.Context, sql.Transaction) error { return nil }

// Rollback ends the transaction even when the ledger fails it: the writes
// cannot be undone whatever the client does next, and a client told of
// them should not be told again at its next ROLLBACK.
func (s *txSession) Rollback(ctx *sql.Context, tx sql.Transaction) error {
	t, ok := tx.(*transaction)
	if !ok {
		return nil
	}
	err := s.ledger.RolledBack(ctx, s.ID(), t.mark)
	if err != nil {
		ctx.SetIgnoreAutoCommit(false)
		ctx.SetTransaction(nil)
	}
	return err
}

func (s *txSession) CreateSavepoint(_ *sql.Context, tx sql.Transaction, name string) error {
	t, ok := tx.(*transaction)
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.savepoints == nil {
		t.savepoints = map[string]int64{}
	}
	t.savepoints[strings.ToLower(name)] = s.ledger.Mark()
	return nil
}

func (s *txSession) RollbackToSavepoint(ctx *sql.Context, tx sql.Transaction, name string) error {
	t, ok := tx.(*transaction)
	if !ok {
		return nil
	}
	t.mu.Lock()
	mark, found := t.savepoints[strings.ToLower(name)]
	t.mu.Unlock()
	if !found {
		return sql.ErrSavepointDoesNotExist.New(name)
	}
	return s.ledger.RolledBack(ctx, s.ID(), mark)
}

func (s *txSession) ReleaseSavepoint(_ *sql.Context, tx sql.Transaction, name string) error {
	t, ok := tx.(*transaction)
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, found := t.savepoints[strings.ToLower(name)]; !found {
		return sql.ErrSavepointDoesNotExist.New(name)
	}
	delete(t.savepoints, strings.ToLower(name))
	return nil
}
