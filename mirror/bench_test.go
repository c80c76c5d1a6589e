package mirror

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
)

// benchN objects, written once per test binary run for every benchmark.
const benchN = 100_000

var (
	benchOnce sync.Once
	benchM    *Mirror
	benchDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchM != nil {
		_ = benchM.Close()
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchMirror(b *testing.B) *Mirror {
	benchOnce.Do(func() {
		e := newEnv(&testing.T{}, "Customers")
		dir, err := os.MkdirTemp("", "mirror-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		e.cfg.Dir = dir
		e.cfg.Logger = nil
		m, err := open(e.cfg)
		if err != nil {
			b.Fatal(err)
		}
		t := m.tables["customers"]
		for i := 0; i < benchN; i += backfillBatch {
			var objs []map[string]any
			for j := i; j < min(i+backfillBatch, benchN); j++ {
				objs = append(objs, map[string]any{
					"id": fmt.Sprintf("cus_%08d", j), "object": "customer", "created": 1_700_000_000 + j*30,
					"email": fmt.Sprintf("user%d@example.com", j), "name": "Some Body", "balance": j % 1000,
					"currency": "usd", "delinquent": false, "livemode": false, "description": nil,
					"address":  map[string]any{"city": "Paris", "country": "FR", "line1": "1 rue X", "postal_code": "75001"},
					"metadata": map[string]any{"plan": "pro", "source": "web"}, "invoice_prefix": "ABCD1234",
					"invoice_settings":  map[string]any{"custom_fields": nil, "default_payment_method": nil, "footer": nil},
					"preferred_locales": []any{"fr"}, "tax_exempt": "none", "phone": "+33123456789",
				})
			}
			m.wmu.Lock()
			x := m.newTxn()
			for _, o := range objs {
				if _, err := x.put(t, jsonObject(o), 1, false, compare); err != nil {
					b.Fatal(err)
				}
			}
			err := x.commit(false)
			m.wmu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
		}
		benchM = m
	})
	return benchM
}

// BenchmarkScan reads every object of a 100,000-object table; ns/object is
// the per-object cost a full-table query pays in the store.
func BenchmarkScan(b *testing.B) {
	m := benchMirror(b)
	for _, c := range []struct {
		name  string
		paths []string
	}{
		{"created", []string{"created"}},
		{"email+balance", []string{"email", "balance"}},
		{"address.country", []string{"address.country"}},
		{"all", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				it, err := m.Objects(b.Context(), "Customers", Query{Paths: c.paths})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := it.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				_ = it.Close()
				if n != benchN {
					b.Fatalf("scanned %d objects, want %d", n, benchN)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/object")
		})
	}
}

// BenchmarkPointRead reads one object by id.
func BenchmarkPointRead(b *testing.B) {
	m := benchMirror(b)
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("cus_%08d", (i*7919)%benchN)
		i++
		it, err := m.Objects(b.Context(), "Customers", Query{IDs: []string{id}})
		if err != nil {
			b.Fatal(err)
		}
		if o, err := it.Next(); err != nil || o.ID() != id {
			b.Fatalf("read %s: %v %v", id, o, err)
		}
		_ = it.Close()
	}
}

// BenchmarkBackfillWrite backfills 20,000 objects from a reader that
// costs nothing: objects/s is how fast the store takes a backfill, which
// must be far above what the rate limit lets ReadAll deliver (25 pages of
// 100 objects a second at Stripe's test-mode limit) for the backfill to
// run at the rate bound.
func BenchmarkBackfillWrite(b *testing.B) {
	const n = 20_000
	objs := make([]map[string]any, n)
	for j := range objs {
		objs[j] = map[string]any{
			"id": fmt.Sprintf("cus_%08d", j), "object": "customer", "created": 1_700_000_000 + j,
			"email": fmt.Sprintf("user%d@example.com", j), "name": "Some Body", "balance": j % 1000,
			"address": map[string]any{"city": "Paris", "country": "FR"}, "metadata": map[string]any{"plan": "pro"},
		}
	}
	for b.Loop() {
		b.StopTimer()
		e := newEnv(&testing.T{}, "Customers")
		e.cfg.Dir = b.TempDir()
		e.cfg.Logger = nil
		e.read.set("Customers", objs...)
		m, err := open(e.cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := m.backfillTable(b.Context(), m.tables["customers"]); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if c, _ := m.Count(b.Context(), "Customers"); c != n {
			b.Fatalf("Count = %d, want %d", c, n)
		}
		_ = m.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "objects/s")
}
