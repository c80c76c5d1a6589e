package aggregates

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// TestIntegerSumPastInt64 sums BIGINTs whose running total leaves the
// int64 range and comes back, both ways, per group and in AVG: the int64
// partial sum must hand over to the decimal exactly.
func TestIntegerSumPastInt64(t *testing.T) {
	engine, ctx := newEngine(t)
	run(t, engine, ctx, "CREATE TABLE big (g INT, v BIGINT)")
	r := rand.New(rand.NewSource(13))
	want := map[int]*big.Int{}
	count := map[int]int64{}
	var vals []string
	for i := 0; i < 400; i++ {
		g := i % 3
		var v int64
		switch r.Intn(4) {
		case 0:
			v = math.MaxInt64 - r.Int63n(10)
		case 1:
			v = math.MinInt64 + r.Int63n(10)
		case 2:
			v = r.Int63n(1000) - 500
		default:
			v = math.MaxInt64 / 3
		}
		if g == 2 {
			v = math.MaxInt64 - r.Int63n(3) // only upward: far past int64
		}
		if want[g] == nil {
			want[g] = new(big.Int)
		}
		want[g].Add(want[g], big.NewInt(v))
		count[g]++
		vals = append(vals, fmt.Sprintf("(%d, %d)", g, v))
	}
	run(t, engine, ctx, "INSERT INTO big VALUES "+strings.Join(vals, ", "))
	_, rows := run(t, engine, ctx, "SELECT g, SUM(v), AVG(v) FROM big GROUP BY g ORDER BY g")
	if len(rows) != 3 {
		t.Fatalf("%d groups, want 3", len(rows))
	}
	for _, row := range rows {
		g := int(row[0].(int32))
		if got := text(row[1]); got != want[g].String() {
			t.Errorf("group %d: SUM %s, want %s", g, got, want[g])
		}
		// AVG to 4 decimals, rounded half away from zero as MySQL.
		q := new(big.Rat).SetFrac(want[g], big.NewInt(count[g]))
		if got, w := text(row[2]), q.FloatString(4); got != w {
			t.Errorf("group %d: AVG %s, want %s", g, got, w)
		}
	}
}

// BenchmarkSumBigintUpdate is the per-row cost of SUM(Amount) over BIGINT.
func BenchmarkSumBigintUpdate(b *testing.B) {
	ctx := sql.NewEmptyContext()
	sum := NewSum(expression.NewGetField(0, types.Int64, "Amount", true)).(sql.Aggregation)
	buf, err := sum.NewBuffer(ctx)
	if err != nil {
		b.Fatal(err)
	}
	row := sql.Row{int64(1999)}
	for b.Loop() {
		if err := buf.Update(ctx, row); err != nil {
			b.Fatal(err)
		}
	}
}
