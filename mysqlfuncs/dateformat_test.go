package mysqlfuncs

import (
	"math/rand"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// TestDateFormatEqualsTheEngines checks the compiled DATE_FORMAT against the
// engine's own function over many instants and formats, including formats
// left to the engine and dates given as strings, numbers and NULL.
func TestDateFormatEqualsTheEngines(t *testing.T) {
	ctx := sql.NewEmptyContext()
	formats := []string{
		"%Y-%m", "%Y-%m-%d", "%Y", "%m", "%Y-%m-%d %H:%i:%s", "%Y-%m-%d %H:%i:%S.%f", "%y/%c/%e %k",
		"%T", "%M %b %W %a %p", "month %Y-%m!", "100%% %Y", "%d.%m.%Y", "", "plain",
		// Left to the engine: week numbers, day of year, flags, stray %.
		"%X-%V", "%x%v %j", "%U %u", "%-d", "%Y-%", "%q %D %r %l %h %I %w",
	}
	r := rand.New(rand.NewSource(13))
	var instants []time.Time
	for i := 0; i < 2000; i++ {
		sec := r.Int63n(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()-time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) +
			time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		instants = append(instants, time.Unix(sec, int64(r.Intn(1e9))).UTC())
	}
	instants = append(instants,
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC),
		// Rounded to the microsecond into the next year; another zone (the engine converts to UTC).
		time.Date(2024, 12, 31, 23, 59, 59, 999999600, time.UTC), time.Date(2025, 1, 1, 0, 30, 0, 0, time.FixedZone("X", 3600)))
	compiled := 0
	for _, f := range formats {
		for _, at := range instants {
			date := expression.NewLiteral(at, types.DatetimeMaxPrecision)
			got, gerr := newDateFormat(ctx, date, lit(f)).Eval(ctx, nil)
			want, werr := function.NewDateFormat(ctx, date, lit(f)).Eval(ctx, nil)
			if got != want || (gerr == nil) != (werr == nil) {
				t.Fatalf("DATE_FORMAT(%s, %q) = %v, %v; the engine's: %v, %v", at, f, got, gerr, want, werr)
			}
		}
		if _, ok := newDateFormat(ctx, lit("2024-01-01"), lit(f)).(*dateFormat); ok {
			compiled++
		}
	}
	if compiled != 14 {
		t.Errorf("%d formats compiled, want 14", compiled)
	}
	for _, d := range []any{"2024-03-05 06:07:08", "2024-03-05", int64(20240305), nil, "not a date"} {
		var date sql.Expression = lit(d)
		got, gerr := newDateFormat(ctx, date, lit("%Y-%m %H")).Eval(ctx, nil)
		want, werr := function.NewDateFormat(ctx, date, lit("%Y-%m %H")).Eval(ctx, nil)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Errorf("DATE_FORMAT(%v, '%%Y-%%m %%H') = %v, %v; the engine's: %v, %v", d, got, gerr, want, werr)
		}
	}
	// A format that is not a constant is the engine's expression.
	col := expression.NewGetField(0, types.LongText, "f", true)
	if _, ok := newDateFormat(ctx, lit("2024-01-01"), col).(*function.DateFormat); !ok {
		t.Errorf("a column format is not the engine's DATE_FORMAT")
	}
	e := newDateFormat(ctx, lit("2024-01-01"), lit("%Y-%m"))
	if e.String() != function.NewDateFormat(ctx, lit("2024-01-01"), lit("%Y-%m")).String() || e.Type(ctx) != types.Text {
		t.Errorf("String %q, type %v: not the engine's", e.String(), e.Type(ctx))
	}
}

// TestDateFormatKeepsOnlyItsBucketsResult: one DATE_FORMAT evaluated over
// instants in order (a month's and a day's rows one after another, as a
// scan gives them) and shuffled, gives for each what the engine's gives:
// the result it keeps for a month or a day is never returned for another.
func TestDateFormatKeepsOnlyItsBucketsResult(t *testing.T) {
	ctx := sql.NewEmptyContext()
	col := expression.NewGetField(0, types.Datetime, "Created", true)
	r := rand.New(rand.NewSource(7))
	var instants []time.Time
	for at := time.Date(2023, 11, 28, 0, 0, 0, 0, time.UTC); at.Year() < 2025; at = at.Add(time.Duration(r.Int63n(int64(40 * time.Hour)))) {
		instants = append(instants, at)
	}
	// The same day and month in other years, and across a zone's midnight.
	instants = append(instants, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 0, 30, 0, 0, time.FixedZone("X", 3600)), time.Date(2024, 2, 29, 23, 59, 59, 999999700, time.UTC))
	shuffled := append([]time.Time(nil), instants...)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	kept := 0
	for _, f := range []string{"%Y-%m", "%b %Y", "%Y-%m-%d", "%a %e", "%Y-%m-%d %H", "%y"} {
		ours := newDateFormat(ctx, col, lit(f))
		engine := function.NewDateFormat(ctx, col, lit(f))
		for _, seq := range [][]time.Time{instants, shuffled, append(instants, nil...)} {
			for _, at := range append(seq, time.Time{}) {
				row := sql.Row{at}
				if at.IsZero() {
					row = sql.Row{nil}
				}
				got, gerr := ours.Eval(ctx, row)
				want, werr := engine.Eval(ctx, row)
				if got != want || (gerr == nil) != (werr == nil) {
					t.Fatalf("DATE_FORMAT(%v, %q) = %v, %v; the engine's: %v, %v", row[0], f, got, gerr, want, werr)
				}
			}
		}
		if ours.(*dateFormat).last.Load() != nil {
			kept++
		}
	}
	if kept != 5 {
		t.Errorf("%d formats kept a result, want 5 (all but the one with an hour)", kept)
	}
}

// BenchmarkDateFormatMonth is the per-row cost of DATE_FORMAT(Created, '%Y-%m'),
// compiled and the engine's.
func BenchmarkDateFormatMonth(b *testing.B) {
	ctx := sql.NewEmptyContext()
	col := expression.NewGetField(0, types.Datetime, "Created", false)
	row := sql.Row{time.Date(2025, 7, 14, 10, 30, 0, 0, time.UTC)}
	for _, c := range []struct {
		name string
		e    sql.Expression
	}{
		{"compiled", newDateFormat(ctx, col, lit("%Y-%m"))},
		{"engine", function.NewDateFormat(ctx, col, lit("%Y-%m"))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.e.Eval(ctx, row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestStrToDateISOEqualsTheEngines checks STR_TO_DATE(s, '%Y-%m-%d') against
// the engine's over valid, overflowing and malformed dates.
func TestStrToDateISOEqualsTheEngines(t *testing.T) {
	ctx := sql.NewEmptyContext()
	inputs := []string{"2025-07-01", "2024-02-29", "2025-02-29", "2025-02-31", "2025-13-01", "2025-00-10", "2025-01-00",
		"0000-01-01", "9999-12-31", " 2025-01-01", "2025-01-01 ", "2025-1-01", "2025-01-1", "20250101", "2025-01-01x",
		"2025/01/01", "2025-01-32", "abcd-01-01", "", "2025-01-01 12:00:00"}
	r := rand.New(rand.NewSource(13))
	for i := 0; i < 3000; i++ {
		b := []byte("0000-00-00")
		for _, j := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
			b[j] = byte('0' + r.Intn(10))
		}
		if r.Intn(2) == 0 { // mostly plausible months and days
			m, d := 1+r.Intn(12), 1+r.Intn(31)
			b[5], b[6], b[8], b[9] = byte('0'+m/10), byte('0'+m%10), byte('0'+d/10), byte('0'+d%10)
		}
		inputs = append(inputs, string(b))
	}
	fast := 0
	for _, in := range inputs {
		got, gerr := newStrToDate(ctx, lit(in), lit("%Y-%m-%d")).Eval(ctx, nil)
		want, werr := function.NewStrToDate(ctx, lit(in), lit("%Y-%m-%d")).Eval(ctx, nil)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("STR_TO_DATE(%q, '%%Y-%%m-%%d') = %v, %v; the engine's: %v, %v", in, got, gerr, want, werr)
		}
		if _, ok := parseISODate(in); ok {
			fast++
		}
	}
	if fast < 1500 {
		t.Errorf("only %d of %d inputs took the fast path", fast, len(inputs))
	}
}

// BenchmarkStrToDateISO is the per-row cost of Metabase's month bucket's
// outer STR_TO_DATE(…, '%Y-%m-%d'), ours and the engine's.
func BenchmarkStrToDateISO(b *testing.B) {
	ctx := sql.NewEmptyContext()
	col := expression.NewGetField(0, types.LongText, "s", false)
	row := sql.Row{"2025-07-01"}
	for _, c := range []struct {
		name string
		e    sql.Expression
	}{
		{"ours", newStrToDate(ctx, col, lit("%Y-%m-%d"))},
		{"engine", function.NewStrToDate(ctx, col, lit("%Y-%m-%d"))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.e.Eval(ctx, row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
