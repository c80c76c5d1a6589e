// Package tables presents catalog entries as go-mysql-server tables: one
// generic Table type serves every Stripe resource the catalog describes.
//
// Reads stream page by page from Stripe. The WHERE clause reaches the table
// through sql.IndexSearchableTable, is planned by package pushdown, and is
// re-checked by the engine on every row (PreciseMatch is false), so a plan
// may fetch a superset but never changes the answer.
package tables

import (
	"log/slog"
	"sort"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// Config configures a Database.
type Config struct {
	// Name is the database name users connect to ("stripe").
	Name    string
	Catalog *catalog.Catalog
	Client  *stripeapi.Client
	Logger  *slog.Logger
}

// Database is the SQL database of one Stripe account.
type Database struct {
	name    string
	catalog *catalog.Catalog
	client  *stripeapi.Client
	logger  *slog.Logger
	cache   *queryCache
	keyed   *keyedScans
	ledger  *callLedger
	// stats are what complete scans learned of their lists (scanstats.go).
	stats  *scanStats
	wstate *writeState
	tables map[*catalog.Table]*Table
	// writesTable is StripeWrites, the record of writes (write_log.go).
	writesTable *writesTable
	// mirror, when set, answers reads of the tables it mirrors (mirror.go).
	mirror atomic.Pointer[mirrorRef]
	// valuesBuilt counts the column values read scans have built into
	// rows, so tests can tell that a projection reads only what it uses.
	valuesBuilt atomic.Uint64
	// listGoroutines counts the goroutines of concurrent list reads
	// (concurrent.go), so tests can tell that a closed read left none.
	listGoroutines *goroutineCount
}

var _ sql.Database = (*Database)(nil)

// NewDatabase returns the database of cfg.Catalog's tables, served by cfg.Client.
func NewDatabase(cfg Config) *Database {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	registerReadVariables()
	registerRollbackVariable()
	disableForeignKeyChecks()
	showClientTotals(cfg.Client)
	d := &Database{
		name:    cfg.Name,
		catalog: cfg.Catalog,
		client:  cfg.Client,
		logger:  cfg.Logger,
		cache:   newQueryCache(maxCacheBytes),
		keyed:   newKeyedScans(),
		stats:   newScanStats(),
		ledger:  newCallLedger(),
		wstate:  &writeState{inserted: newInsertedIDs(), log: newWriteLog()},
		tables:  make(map[*catalog.Table]*Table),

		listGoroutines: newGoroutineCount(),
	}
	for _, def := range cfg.Catalog.Tables() {
		d.tables[def] = newTable(d, def)
	}
	d.writesTable = newWritesTable(d)
	return d
}

// Name implements sql.Nameable.
func (d *Database) Name() string { return d.name }

// Catalog returns the catalog the database serves (its tables, and the
// actions package procedures makes procedures of).
func (d *Database) Catalog() *catalog.Catalog { return d.catalog }

// GetTableInsensitive implements sql.Database. Aliases (Customer for
// Customers) resolve to the same table.
func (d *Database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	if isWritesTable(name) {
		return d.writesTable, true, nil
	}
	def, ok := d.catalog.Lookup(name)
	if !ok {
		return nil, false, nil
	}
	return d.tables[def], true, nil
}

// GetTableNames implements sql.Database. Aliases are not listed, so
// SHOW TABLES names each table once.
func (d *Database) GetTableNames(*sql.Context) ([]string, error) {
	names := make([]string, 0, len(d.tables)+1)
	for _, def := range d.catalog.Tables() {
		names = append(names, def.Name)
	}
	names = append(names, WritesTable)
	sort.Strings(names)
	return names, nil
}

// resolve completes a plan for this account: test-clock scans exist only
// in test mode (live keys have no test clocks).
func (d *Database) resolve(_ *sql.Context, plan pushdown.Plan) pushdown.Plan {
	return pushdown.Resolve(plan, d.catalog, pushdown.Options{TestClocks: d.client.Mode() == stripeapi.ModeTest})
}
