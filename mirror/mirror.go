// Package mirror keeps a local copy of Stripe tables: each is backfilled
// once with range scans, then kept current by polling Stripe's event stream
// (GET /v1/events), and read from a Pebble store on disk, so analytic
// queries do not spend the account's rate budget and a million objects are
// scanned in seconds instead of minutes (issue 13).
//
// Package tables routes reads here (Objects, Count) when a table is ready,
// and reports writes (Applied) so a session reads its own writes; the
// catalog says what a table is, this package only stores Stripe objects.
package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"golang.org/x/time/rate"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// Query narrows the objects a read needs. The zero Query is the whole table. The objects returned
// are a superset of those the query's WHERE selects: the engine re-checks every row (PreciseMatch
// is false everywhere), so an index only saves work, never decides an answer.
//
// The mirror applies IDs, the created range and Equal exactly (an object
// returned satisfies all of them), with Equal compared without case.
type Query struct {
	IDs        []string // non-nil: only these ids (point reads; an empty non-nil slice = nothing)
	CreatedGTE *int64   // unix seconds, inclusive
	CreatedLTE *int64   // unix seconds, inclusive
	// Equal maps the JSON path of a column (catalog Column.Path) to the
	// values it may have, written as a Stripe list parameter carries them:
	// strings as they are, numbers in decimal, booleans "true"/"false", an
	// expandable field by the id. An object matches if the value at every
	// path is one of its values, compared without case. A path the
	// catalog's equality filters name is an index read.
	Equal map[string][]string
	// Paths are the JSON paths the query reads (catalog Column.Path); nil =
	// all. The iterator may return objects holding only these paths (+
	// "id", "created"): it decodes only their top-level fields.
	Paths []string
}

// Iterator streams the objects of a read.
type Iterator interface {
	Next() (stripeapi.Object, error) // io.EOF at the end
	Close() error
}

// TableStatus is the state of one mirrored table.
type TableStatus struct {
	Table         string
	State         string        // "backfilling", "ready", "failed: <reason>"
	Backfilled    int64         // objects written by the current/last backfill
	Objects       int64         // objects held now
	EventsApplied int64         // events applied to this table since the store was created
	Lag           time.Duration // now − the instant up to which all visible events have been applied
}

// Table states.
const (
	StateBackfilling = "backfilling"
	StateReady       = "ready"
	stateFailed      = "failed: "
)

// Config configures a mirror.
type Config struct {
	// Dir holds the store; it is created if missing.
	Dir string
	// Tables are the tables to mirror, already resolved by the caller
	// (Mirrorable(cat) for "all").
	Tables  []*catalog.Table
	Catalog *catalog.Catalog
	// Client is the server's client (its global limiter); the mirror adds
	// its own share limiter (stripeapi.WithShare) of Rate.
	Client *stripeapi.Client
	// Rate is the requests/s the mirror may spend (backfill + polling);
	// 0 or less means no share limit of its own.
	Rate float64
	// Interval is the time between two polls of the event stream; 0 = 2s.
	Interval time.Duration
	// ReadAll reads a whole table live, exactly as SELECT * would
	// (test-clock objects, nested tables' fan-out, parent column filled),
	// with range scans; package tables provides it. Every Stripe request
	// made with ctx must be limited by the ctx's share limiter.
	ReadAll func(ctx context.Context, table string, emit func(stripeapi.Object) error) error
	Logger  *slog.Logger
	// Now is the clock; nil = time.Now.
	Now func() time.Time

	// Overlap is how far back each poll re-reads the event stream, because
	// events become visible late and out of order; 0 = 60s. The cursor only
	// moves past instants older than it.
	Overlap time.Duration
	// Retention is how long Stripe keeps events; 0 = 30 days. A cursor
	// older than it means events were lost: every table is backfilled anew.
	Retention time.Duration
}

const (
	defaultInterval  = 2 * time.Second
	defaultOverlap   = 60 * time.Second
	defaultRetention = 30 * 24 * time.Hour
	// Pebble's block cache and memtable are small on purpose: the store is
	// read mostly by scans, which gain little from a cache, and the server
	// must stay under 256 MB of RSS with a million objects mirrored.
	blockCacheBytes = 16 << 20
	memTableBytes   = 8 << 20
	targetFileBytes = 4 << 20
)

// table is a mirrored table and its state.
type table struct {
	t    *catalog.Table
	name string
	// indexed are the JSON paths with an equality index: the catalog's
	// equality filters (Created excepted: it is the scan order) and, for a
	// nested table, the parent column (deletions cascade through it).
	indexed   []string
	indexTops map[string]bool // the top-level fields of indexed, to decode
	// parentPath is the path of the parent's id for a table nested in its
	// parent's endpoint path ("customer" for Cards); children are the
	// mirrored tables nested so in this one.
	parentPath string
	children   []*table

	// narrow is the table's narrow columns (narrow.go), nil if it has
	// none; narrowReady is set once its keyspace holds every object.
	narrow      *narrowSet
	narrowReady atomic.Bool

	meta tableMeta // guarded by Mirror.mu

	// fresh is set during the first backfill of an empty table (guarded
	// by Mirror.wmu): it holds the ids written by anything but the
	// backfill (events, writes) since it started; other ids the backfill
	// writes without looking them up.
	fresh map[string]bool
}

// tableMeta is a table's persisted state.
type tableMeta struct {
	State         string `json:"state"`
	Backfilled    int64  `json:"backfilled"`
	BackfillStart int64  `json:"backfill_start"` // unix ns of the current/last backfill's start
	EventsApplied int64  `json:"events_applied"`
	Objects       int64  `json:"objects"`
	// Narrow lists the paths the narrow keyspace was built with, once it
	// holds every object (narrow.go); nil before.
	Narrow []string `json:"narrow,omitempty"`
}

// Mirror is an open mirror: a store, a backfill and a follower of events.
type Mirror struct {
	cfg   Config
	db    *pebble.DB
	cache *pebble.Cache
	log   *slog.Logger
	clock func() time.Time // the local clock (Config.Now)
	// skew is how far the local clock is ahead of Stripe's, in ns, as the
	// Date of the last poll's response says (0 while within skewSlack).
	skew   atomic.Int64
	share  *rate.Limiter
	tables map[string]*table // by lower-case name
	order  []*table          // as configured
	// byObject lists the mirrored tables of each Stripe object type.
	byObject map[string][]*table

	wmu sync.Mutex // serializes writes (txns)

	mu       sync.Mutex // guards the fields below and every table's meta
	cursor   int64      // unix seconds: polls list events created at or after it
	followed time.Time  // start of the last poll that succeeded (lag)
	// full is the start of the last full poll that succeeded: every event
	// visible then is applied. wantFull asks for a full poll (CaughtUp).
	full     time.Time
	wantFull bool
	polled   chan struct{}
	opened   time.Time

	kick     chan struct{} // asks the follower to poll now
	backfill chan struct{} // tells the backfiller that a table needs one
	cancel   context.CancelFunc
	done     sync.WaitGroup

	retry time.Duration // wait before a failed backfill is tried again
	// failCommit, if set (by tests), is asked before every commit and
	// fails it with its error, as a store that cannot write would.
	failCommit func() error

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// errClosed is the error of a read or write after Close.
var errClosed = errors.New("mirror: the mirror is closed")

// Open opens (or creates) the store in cfg.Dir and starts, in the
// background, the backfill of every configured table not already done and
// the following of the event stream.
func Open(ctx context.Context, cfg Config) (*Mirror, error) {
	m, err := open(cfg)
	if err != nil {
		return nil, err
	}
	m.start(ctx)
	return m, nil
}

// open opens the store and loads its state, without starting anything.
func open(cfg Config) (*Mirror, error) {
	if cfg.Dir == "" {
		return nil, errors.New("mirror: no directory for the store")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("mirror: no catalog")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = defaultOverlap
	}
	if cfg.Retention <= 0 {
		cfg.Retention = defaultRetention
	}
	m := &Mirror{
		cfg: cfg, log: cfg.Logger, clock: cfg.Now,
		tables: map[string]*table{}, byObject: map[string][]*table{},
		polled: make(chan struct{}), kick: make(chan struct{}, 1), backfill: make(chan struct{}, 1),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	m.opened = m.now()
	m.retry = backfillRetry
	if cfg.Rate > 0 {
		m.share = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate)))
	}
	for _, ct := range cfg.Tables {
		if _, dup := m.tables[strings.ToLower(ct.Name)]; dup {
			continue
		}
		t := &table{t: ct, name: ct.Name, indexTops: map[string]bool{}}
		for _, f := range ct.Filters {
			col, ok := ct.Column(f.Column)
			if f.Ops&catalog.OpEq == 0 || !ok || col.Path == "" || col.Path == "created" || col.Path == "id" {
				continue
			}
			t.indexed = append(t.indexed, col.Path)
		}
		if ct.Parent.InPath() {
			if col, ok := ct.Column(ct.Parent.Column); ok && col.Path != "" {
				t.parentPath = col.Path
				t.indexed = append(t.indexed, col.Path)
			}
		}
		slices.Sort(t.indexed)
		t.indexed = slices.Compact(t.indexed)
		for _, p := range t.indexed {
			top, _, _ := strings.Cut(p, ".")
			t.indexTops[top] = true
		}
		m.tables[strings.ToLower(ct.Name)] = t
		m.order = append(m.order, t)
		m.byObject[ct.Object] = append(m.byObject[ct.Object], t)
	}
	for _, t := range m.order {
		if t.parentPath == "" {
			continue
		}
		if p, ok := m.tables[strings.ToLower(t.t.Parent.Table)]; ok {
			p.children = append(p.children, t)
		}
	}

	m.cache = pebble.NewCache(blockCacheBytes)
	opts := &pebble.Options{
		Cache:                       m.cache,
		MemTableSize:                memTableBytes,
		MemTableStopWritesThreshold: 4,
		MaxOpenFiles:                1000,
		Logger:                      pebbleLogger{m.log},
	}
	// Bloom filters let a lookup of a key the store does not hold (every
	// object of a first backfill, every new object of an event) skip the
	// files instead of reading a block of each.
	// A filter is one block per file: files are kept small so that a
	// filter fits in a block-cache shard and stays cached, rather than
	// being read again for every lookup.
	opts.Levels = make([]pebble.LevelOptions, 7)
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].TargetFileSize = targetFileBytes
		opts.Levels[i].EnsureDefaults()
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		m.cache.Unref()
		return nil, fmt.Errorf("mirror: open store %s: %w", cfg.Dir, err)
	}
	m.db = db
	if err := m.load(); err != nil {
		_ = db.Close()
		m.cache.Unref()
		return nil, err
	}
	if err := m.narrowOpen(); err != nil {
		_ = db.Close()
		m.cache.Unref()
		return nil, fmt.Errorf("mirror: open the narrow keyspace: %w", err)
	}
	return m, nil
}

// load reads the cursor and each table's meta.
func (m *Mirror) load() error {
	v, ok, err := m.getDB(cursorKey)
	if err != nil {
		return fmt.Errorf("mirror: read cursor: %w", err)
	}
	if ok {
		if m.cursor, ok = bytesInt64(v); !ok {
			return errors.New("mirror: corrupt events cursor")
		}
	}
	for _, t := range m.order {
		v, ok, err := m.getDB(metaKey(t.name))
		if err != nil {
			return fmt.Errorf("mirror: read state of %s: %w", t.name, err)
		}
		if ok {
			if err := json.Unmarshal(v, &t.meta); err != nil {
				return fmt.Errorf("mirror: state of %s: %w", t.name, err)
			}
		}
		if t.meta.State != StateReady {
			// A backfill that did not finish starts again: ReadAll cannot
			// resume one, and its objects are kept until it replaces them.
			t.meta.State = StateBackfilling
		}
	}
	// A store closed for longer than Stripe keeps events has lost some:
	// every table is read again, and none is ready until then.
	if now := m.now(); m.cursor != 0 && now.Unix()-m.cursor > int64(m.cfg.Retention/time.Second) {
		return m.rebackfill(now, fmt.Sprintf("the store's events cursor (%s) is older than Stripe's event retention (%s)",
			time.Unix(m.cursor, 0).UTC().Format(time.RFC3339), m.cfg.Retention))
	}
	return nil
}

func (m *Mirror) getDB(key []byte) ([]byte, bool, error) {
	v, closer, err := m.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := slices.Clone(v)
	return out, true, closer.Close()
}

// start runs the backfiller and the follower until Close.
func (m *Mirror) start(ctx context.Context) {
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ctx = stripeapi.WithShare(ctx, m.share)
	m.done.Add(3)
	go func() { defer m.done.Done(); m.runBackfill(ctx) }()
	go func() { defer m.done.Done(); m.follow(ctx) }()
	go func() {
		defer m.done.Done()
		if err := m.narrowRebuild(ctx); err != nil && ctx.Err() == nil {
			// Reads keep using whole objects: slower, not wrong.
			m.log.Warn("mirror: cannot rebuild the narrow keyspace", "err", err)
		}
	}()
	m.wakeBackfill()
}

// Close stops the background work and closes the store.
// A second Close does nothing.
func (m *Mirror) Close() error {
	m.closeOnce.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		m.done.Wait()
		m.wmu.Lock()
		defer m.wmu.Unlock()
		m.closed.Store(true)
		m.closeErr = m.db.Close()
		m.cache.Unref()
	})
	return m.closeErr
}

func (m *Mirror) lookupTable(name string) (*table, error) {
	t, ok := m.tables[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("mirror: table %s is not mirrored", name)
	}
	return t, nil
}

// Mirrors reports whether table is one of the mirrored tables.
func (m *Mirror) Mirrors(table string) bool {
	_, ok := m.tables[strings.ToLower(table)]
	return ok
}

// Ready reports whether table's backfill is done, so reads from the mirror
// hold all of it, and how far behind Stripe the mirror is.
func (m *Mirror) Ready(table string) (ready bool, lag time.Duration) {
	t, ok := m.tables[strings.ToLower(table)]
	if !ok {
		return false, 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return t.meta.State == StateReady, m.lagLocked()
}

func (m *Mirror) lagLocked() time.Duration {
	since := m.followed
	if since.IsZero() {
		since = m.opened
	}
	return max(0, m.now().Sub(since))
}

// Status returns the state of every mirrored table, in configured order.
func (m *Mirror) Status() []TableStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	lag := m.lagLocked()
	out := make([]TableStatus, 0, len(m.order))
	for _, t := range m.order {
		out = append(out, TableStatus{
			Table: t.name, State: t.meta.State, Backfilled: t.meta.Backfilled,
			Objects: t.meta.Objects, EventsApplied: t.meta.EventsApplied, Lag: lag,
		})
	}
	return out
}

// Count returns the number of objects table holds (exact: a counter kept
// with every change).
func (m *Mirror) Count(ctx context.Context, table string) (int64, error) {
	t, err := m.lookupTable(table)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return t.meta.Objects, nil
}

// Applied records what a write through stripesql got back from Stripe,
// before the statement returns (read your writes). deleted for a DELETE
// (obj holds at least "id"). A table that is not mirrored is ignored.
func (m *Mirror) Applied(ctx context.Context, table string, obj stripeapi.Object, deleted bool) error {
	t, ok := m.tables[strings.ToLower(table)]
	if !ok {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b, _ := obj["deleted"].(bool); b {
		deleted = true
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.closed.Load() {
		return errClosed
	}
	x := m.newTxn()
	res, err := x.put(t, obj, m.now().UnixNano(), deleted, force)
	if err != nil {
		x.abort()
		return err
	}
	if err := x.commit(false); err != nil {
		return err
	}
	if res == resGone {
		// The write is not shown: the caller says so (a warning) rather
		// than let the session believe it reads its write.
		return fmt.Errorf("%w: %s %s", ErrDeletedInMirror, t.name, obj.ID())
	}
	return nil
}

// ErrDeletedInMirror is Applied's error when the mirror does not take a
// write's answer because it holds a deletion of the object that the
// answer is not newer than (or the object's id is one Stripe never uses
// again).
var ErrDeletedInMirror = errors.New("mirror: it holds a deletion of the object no older than the write's answer")

// skewSlack is the clock difference with Stripe the mirror ignores: the
// Date header has whole seconds, and a response takes time.
const skewSlack = 2 * time.Second

// now is Stripe's time as well as the mirror can tell: the local clock,
// corrected by the skew measured on event polls. Versions, the events
// cursor and the lag are all in it, because event times are in Stripe's
// clock: a local clock a minute ahead would otherwise put the cursor past
// events not yet read, and date writes' snapshots after later changes.
func (m *Mirror) now() time.Time {
	return m.clock().Add(-time.Duration(m.skew.Load()))
}

// observeServerTime updates the skew from a response's Date, sent at
// some instant between local times sent and got, and reports a change.
func (m *Mirror) observeServerTime(server, sent, got time.Time) bool {
	if server.IsZero() {
		return false
	}
	local := sent.Add(got.Sub(sent) / 2)
	skew := local.Sub(server.Add(500 * time.Millisecond))
	if skew.Abs() <= skewSlack {
		skew = 0
	}
	old := time.Duration(m.skew.Swap(int64(skew)))
	if (old - skew).Abs() <= skewSlack {
		return false
	}
	m.log.Warn("mirror: the local clock differs from Stripe's; event times are read in Stripe's", "local_ahead_by", skew.Round(time.Second).String())
	// The cursor was set by the other clock: read again from Stripe's now
	// minus the overlap if that is earlier, in a full poll.
	m.mu.Lock()
	if m.cursor != 0 {
		m.cursor = min(m.cursor, m.now().Add(-m.cfg.Overlap).Unix())
	}
	m.wantFull = true
	m.mu.Unlock()
	m.kickPoll()
	return true
}

// pebbleLogger sends Pebble's messages to the server's log at debug level:
// they are about compactions and files, not about the data.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("mirror store: " + fmt.Sprintf(format, args...))
}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("mirror store: " + fmt.Sprintf(format, args...))
}
func (l pebbleLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("mirror store: "+format, args...))
}

var _ = io.EOF
