package server

import (
	"context"
	dbsql "database/sql"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// genDB is database "shop" with one table, wide, whose rows are generated on
// the fly: the server, not the table, is what could hold them.
type genDB struct{ rows, width int }

func (d genDB) Name() string { return "shop" }
func (d genDB) GetTableNames(*sql.Context) ([]string, error) {
	return []string{"wide"}, nil
}
func (d genDB) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	if strings.EqualFold(name, "wide") {
		return genTable(d), true, nil
	}
	return nil, false, nil
}

type genTable genDB

var genSchema = sql.Schema{
	{Name: "n", Type: types.Int64, Source: "wide", PrimaryKey: true},
	{Name: "payload", Type: types.LongText, Source: "wide"},
}

func (t genTable) Name() string                   { return "wide" }
func (t genTable) String() string                 { return "wide" }
func (t genTable) Schema(*sql.Context) sql.Schema { return genSchema }
func (t genTable) Collation() sql.CollationID     { return sql.Collation_Default }
func (t genTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(genPartition{}), nil
}
func (t genTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	return &genIter{t: t}, nil
}

type genPartition struct{}

func (genPartition) Key() []byte { return []byte("all") }

type genIter struct {
	t genTable
	n int
}

// payloadOf is row n's payload: width bytes of one letter, so a row whose
// bytes another row overwrote is caught.
func payloadOf(n, width int) string {
	return strings.Repeat(string(rune('a'+n%26)), width)
}

func (it *genIter) Next(*sql.Context) (sql.Row, error) {
	if it.n == it.t.rows {
		return nil, io.EOF
	}
	it.n++
	return sql.Row{int64(it.n), payloadOf(it.n, it.t.width)}, nil
}
func (it *genIter) Close(*sql.Context) error { return nil }

// heapAfterGC is the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestStreamedRowsAreNotKeptByTheServer streams 100 MB of rows through the
// server and checks that the live heap (server and client share this
// process) never grows by more than 24 MB, and that every row arrives
// intact. Before the fix the engine's row buffer held the wire bytes of
// every row sent until the query ended: over 100 MB here.
func TestStreamedRowsAreNotKeptByTheServer(t *testing.T) {
	const rows, width = 100_000, 1000
	db := start(t, Config{Database: genDB{rows: rows, width: width}}).open(t)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A first query warms the connection and the engine's caches.
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM wide").Scan(new(int64)); err != nil {
		t.Fatal(err)
	}
	idle := heapAfterGC()

	res, err := db.QueryContext(ctx, "SELECT n, payload FROM wide")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var peak uint64
	got := 0
	var payload dbsql.RawBytes
	for res.Next() {
		var n int
		if err := res.Scan(&n, &payload); err != nil {
			t.Fatal(err)
		}
		got++
		if n != got || string(payload) != payloadOf(n, width) {
			t.Fatalf("row %d: got n=%d payload %.10q…, want n=%d payload %.10q…", got, n, payload, got, payloadOf(got, width))
		}
		if got%10_000 == 0 {
			peak = max(peak, heapAfterGC())
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got != rows {
		t.Fatalf("got %d rows, want %d", got, rows)
	}
	growth := int64(peak) - int64(idle)
	t.Logf("live heap: idle %.1f MB, peak while streaming %.1f MB (+%.1f MB for %d MB of rows)",
		float64(idle)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20), rows*width>>20)
	if growth > 24<<20 {
		t.Errorf("live heap grew by %.1f MB while streaming, want at most 24 MB", float64(growth)/(1<<20))
	}
}
