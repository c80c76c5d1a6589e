package server

import (
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// database adapts the served sql.Database to what GMS asks of a database
// once authentication is enabled.
//
// With auth on, GMS wraps every database in mysql_db.PrivilegedDatabase,
// which implements the optional view, trigger, stored-procedure and event
// interfaces by forwarding to the wrapped database, and fails with
// "database ... doesn't support views" (triggers, ...) when it cannot.
// GMS consults views, triggers and procedures while planning ordinary
// queries, so without this adapter every query on a plain sql.Database
// fails. For each of these interfaces database forwards to the inner
// database when it implements it, and otherwise behaves as an empty
// catalog: reads find nothing, writes are refused.
//
// Also forwarded, with GMS's own fallbacks: sql.ReadOnlyDatabase (so a
// database may declare itself read-only) and sql.CollatedDatabase (SHOW
// CREATE DATABASE, information_schema.SCHEMATA).
//
// Deliberately not forwarded, because the schema of a Stripe account is
// fixed by the catalog: DDL (sql.TableCreator, TableDropper, TableRenamer),
// sql.VersionedDatabase (AS OF), sql.SchemaDatabase, sql.AliasedDatabase
// and temporary tables. GMS answers such statements with its own
// "not supported" errors.
type database struct {
	sql.Database
}

var (
	_ sql.ViewDatabase            = database{}
	_ sql.TriggerDatabase         = database{}
	_ sql.StoredProcedureDatabase = database{}
	_ sql.EventDatabase           = database{}
	_ sql.ReadOnlyDatabase        = database{}
	_ sql.CollatedDatabase        = database{}
)

// CreateView implements sql.ViewDatabase.
func (d database) CreateView(ctx *sql.Context, name string, selectStatement, createViewStmt string) error {
	if vdb, ok := d.Database.(sql.ViewDatabase); ok {
		return vdb.CreateView(ctx, name, selectStatement, createViewStmt)
	}
	return sql.ErrViewsNotSupported.New(d.Name())
}

// DropView implements sql.ViewDatabase.
func (d database) DropView(ctx *sql.Context, name string) error {
	if vdb, ok := d.Database.(sql.ViewDatabase); ok {
		return vdb.DropView(ctx, name)
	}
	return sql.ErrViewsNotSupported.New(d.Name())
}

// GetViewDefinition implements sql.ViewDatabase.
func (d database) GetViewDefinition(ctx *sql.Context, viewName string) (sql.ViewDefinition, bool, error) {
	if vdb, ok := d.Database.(sql.ViewDatabase); ok {
		return vdb.GetViewDefinition(ctx, viewName)
	}
	return sql.ViewDefinition{}, false, nil
}

// AllViews implements sql.ViewDatabase.
func (d database) AllViews(ctx *sql.Context) ([]sql.ViewDefinition, error) {
	if vdb, ok := d.Database.(sql.ViewDatabase); ok {
		return vdb.AllViews(ctx)
	}
	return nil, nil
}

// GetTriggers implements sql.TriggerDatabase.
func (d database) GetTriggers(ctx *sql.Context) ([]sql.TriggerDefinition, error) {
	if tdb, ok := d.Database.(sql.TriggerDatabase); ok {
		return tdb.GetTriggers(ctx)
	}
	return nil, nil
}

// CreateTrigger implements sql.TriggerDatabase.
func (d database) CreateTrigger(ctx *sql.Context, definition sql.TriggerDefinition) error {
	if tdb, ok := d.Database.(sql.TriggerDatabase); ok {
		return tdb.CreateTrigger(ctx, definition)
	}
	return sql.ErrTriggersNotSupported.New(d.Name())
}

// DropTrigger implements sql.TriggerDatabase.
func (d database) DropTrigger(ctx *sql.Context, name string) error {
	if tdb, ok := d.Database.(sql.TriggerDatabase); ok {
		return tdb.DropTrigger(ctx, name)
	}
	return sql.ErrTriggersNotSupported.New(d.Name())
}

// GetStoredProcedure implements sql.StoredProcedureDatabase. These are
// procedures created with CREATE PROCEDURE; the Go procedures are served
// by the provider and do not appear here.
func (d database) GetStoredProcedure(ctx *sql.Context, name string) (sql.StoredProcedureDetails, bool, error) {
	if pdb, ok := d.Database.(sql.StoredProcedureDatabase); ok {
		return pdb.GetStoredProcedure(ctx, name)
	}
	return sql.StoredProcedureDetails{}, false, nil
}

// GetStoredProcedures implements sql.StoredProcedureDatabase.
func (d database) GetStoredProcedures(ctx *sql.Context) ([]sql.StoredProcedureDetails, error) {
	if pdb, ok := d.Database.(sql.StoredProcedureDatabase); ok {
		return pdb.GetStoredProcedures(ctx)
	}
	return nil, nil
}

// SaveStoredProcedure implements sql.StoredProcedureDatabase.
func (d database) SaveStoredProcedure(ctx *sql.Context, spd sql.StoredProcedureDetails) error {
	if pdb, ok := d.Database.(sql.StoredProcedureDatabase); ok {
		return pdb.SaveStoredProcedure(ctx, spd)
	}
	return sql.ErrStoredProceduresNotSupported.New(d.Name())
}

// DropStoredProcedure implements sql.StoredProcedureDatabase.
func (d database) DropStoredProcedure(ctx *sql.Context, name string) error {
	if pdb, ok := d.Database.(sql.StoredProcedureDatabase); ok {
		return pdb.DropStoredProcedure(ctx, name)
	}
	return sql.ErrStoredProceduresNotSupported.New(d.Name())
}

// GetEvent implements sql.EventDatabase. Events matter only for
// information_schema.EVENTS and SHOW EVENTS, which would otherwise fail;
// stripesql runs no event scheduler.
func (d database) GetEvent(ctx *sql.Context, name string) (sql.EventDefinition, bool, error) {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.GetEvent(ctx, name)
	}
	return sql.EventDefinition{}, false, nil
}

// GetEvents implements sql.EventDatabase.
func (d database) GetEvents(ctx *sql.Context) ([]sql.EventDefinition, any, error) {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.GetEvents(ctx)
	}
	return nil, nil, nil
}

// SaveEvent implements sql.EventDatabase.
func (d database) SaveEvent(ctx *sql.Context, ed sql.EventDefinition) (bool, error) {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.SaveEvent(ctx, ed)
	}
	return false, sql.ErrEventsNotSupported.New(d.Name())
}

// DropEvent implements sql.EventDatabase.
func (d database) DropEvent(ctx *sql.Context, name string) error {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.DropEvent(ctx, name)
	}
	return sql.ErrEventsNotSupported.New(d.Name())
}

// UpdateEvent implements sql.EventDatabase.
func (d database) UpdateEvent(ctx *sql.Context, originalName string, ed sql.EventDefinition) (bool, error) {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.UpdateEvent(ctx, originalName, ed)
	}
	return false, sql.ErrEventsNotSupported.New(d.Name())
}

// UpdateLastExecuted implements sql.EventDatabase.
func (d database) UpdateLastExecuted(ctx *sql.Context, eventName string, lastExecuted time.Time) error {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.UpdateLastExecuted(ctx, eventName, lastExecuted)
	}
	return sql.ErrEventsNotSupported.New(d.Name())
}

// NeedsToReloadEvents implements sql.EventDatabase.
func (d database) NeedsToReloadEvents(ctx *sql.Context, token any) (bool, error) {
	if edb, ok := d.Database.(sql.EventDatabase); ok {
		return edb.NeedsToReloadEvents(ctx, token)
	}
	return false, nil
}

// IsReadOnly implements sql.ReadOnlyDatabase.
func (d database) IsReadOnly() bool {
	if rdb, ok := d.Database.(sql.ReadOnlyDatabase); ok {
		return rdb.IsReadOnly()
	}
	return false
}

// GetCollation implements sql.CollatedDatabase.
func (d database) GetCollation(ctx *sql.Context) sql.CollationID {
	if cdb, ok := d.Database.(sql.CollatedDatabase); ok {
		return cdb.GetCollation(ctx)
	}
	return sql.Collation_Default
}

// SetCollation implements sql.CollatedDatabase.
func (d database) SetCollation(ctx *sql.Context, collation sql.CollationID) error {
	if cdb, ok := d.Database.(sql.CollatedDatabase); ok {
		return cdb.SetCollation(ctx, collation)
	}
	return sql.ErrDatabaseCollationsNotSupported.New(d.Name())
}
