package bench

import (
	"strings"
	"testing"
)

func TestBound(t *testing.T) {
	for _, c := range []struct {
		cond  conditions
		pages []int
		want  float64
	}{
		{conditions{global: 100}, []int{1000}, 10},
		{conditions{global: 100, endpoint: 25}, []int{1000}, 40},     // one endpoint: its own limit binds
		{conditions{global: 100, endpoint: 25}, []int{100, 100}, 4},  // two endpoints: 4 s each, in parallel
		{conditions{global: 100, endpoint: 80}, []int{500, 500}, 10}, // the global limit binds the sum
		{conditions{}, []int{1000}, 0},                               // no limit, no bound
	} {
		if got := c.cond.bound(c.pages...); got != c.want {
			t.Errorf("%+v bound(%v) = %v, want %v", c.cond, c.pages, got, c.want)
		}
	}
	if pages(100_000) != 1000 || pages(1) != 1 || pages(101) != 2 {
		t.Error("pages rounds wrong")
	}
}

func TestIDCheck(t *testing.T) {
	s := idSet{rows: 5, seen: map[string]int{"a": 1, "b": 2, "x": 1, "c": 1}}
	msg, ok := s.check([]string{"a", "b", "c", "d"})
	if ok || msg != "4 of 4 ids, 1 missing, 1 repeated, 1 unknown" {
		t.Errorf("check = %q, %v", msg, ok)
	}
	s = idSet{rows: 2, seen: map[string]int{"a": 1, "b": 1}}
	if msg, ok := s.check([]string{"b", "a"}); !ok || msg != "2 of 2 ids, 0 missing, 0 repeated" {
		t.Errorf("check = %q, %v", msg, ok)
	}
}

func TestExactInt(t *testing.T) {
	for in, want := range map[string]int64{"4.3697e+06": 4369700, "123": 123, "123.000": 123, "-5": -5} {
		if got, err := exactInt(in); err != nil || got != want {
			t.Errorf("exactInt(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1.5", "abc", "1e30"} {
		if _, err := exactInt(in); err == nil || !strings.Contains(err.Error(), "not an exact integer") {
			t.Errorf("exactInt(%q) error = %v", in, err)
		}
	}
}

func TestRowFormat(t *testing.T) {
	r := Result{Scenario: "count", Query: "SELECT COUNT(*) FROM Customers", Limit: "100/s", Rows: 1000, Seconds: 2,
		Requests: 11, Pages: 10, Bound: 0.1, IdleRSS: 30 << 20, PeakRSS: 40 << 20, Check: "count 1000, emulator 1000"}
	want := "| count | `SELECT COUNT(*) FROM Customers` | 0s | 100/s | 1000 | 2.00 | 11 | 10 | 0 | 0.1 | 0.05 | 500 | 30 | 10 | count 1000, emulator 1000 |"
	if got := Row(r); got != want {
		t.Errorf("Row =\n%s\nwant\n%s", got, want)
	}
	r.Run = "warm"
	if got := Row(r); !strings.HasPrefix(got, "| count warm | `SELECT COUNT(*)") {
		t.Errorf("Row of a warm run = %s, want the scenario cell to say warm", got)
	}
}
