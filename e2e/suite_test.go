package e2e

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The pushdown suite: testdata/pushdown/*.txt hold SQL queries, each with
// the exact Stripe requests it must send (read from the emulator's request
// log, and compared as a multiset: a plan's retrieves, a fan-out's lists and
// a union's branches go out concurrently, so their order varies, while
// every request and its count must match), the rows it must return, and
// the fewest calls that can answer it, recorded by hand. The calls the suite makes, against those
// minimums, are the ratio BenchmarkPushdownSuite reports.
//
// go test ./e2e -run TestPushdownSuite -update rewrites calls and rows
// (never min-calls) from a run; review the diff before committing it.

var update = flag.Bool("update", false, "rewrite the calls and rows of testdata/pushdown from this run")

// suiteCase is one query of the suite.
type suiteCase struct {
	file     string
	line     int
	comment  []string
	query    string
	minCalls int
	calls    []string
	rows     []string
}

const suiteDir = "../testdata/pushdown"

// readSuite parses every suite file. A case is:
//
//	# comment lines
//	query: SELECT …
//	min-calls: N
//	calls:
//	  GET /v1/…
//	rows:
//	  value<TAB>value
//
// separated by blank lines.
func readSuite(t testing.TB) []*suiteCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(suiteDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no suite files in %s: %v", suiteDir, err)
	}
	var cases []*suiteCase
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var cur *suiteCase
		var section *[]string
		var comment []string
		n := 0
		for sc.Scan() {
			n++
			line := sc.Text()
			switch {
			case strings.TrimSpace(line) == "":
				cur, section = nil, nil
			case strings.HasPrefix(line, "#"):
				comment = append(comment, line)
			case strings.HasPrefix(line, "query: "):
				cur = &suiteCase{file: file, line: n, comment: comment, query: strings.TrimPrefix(line, "query: ")}
				comment = nil
				cases = append(cases, cur)
			case cur == nil:
				t.Fatalf("%s:%d: %q outside a case", file, n, line)
			case strings.HasPrefix(line, "min-calls: "):
				cur.minCalls, err = strconv.Atoi(strings.TrimPrefix(line, "min-calls: "))
				if err != nil {
					t.Fatalf("%s:%d: %v", file, n, err)
				}
			case line == "calls:":
				section = &cur.calls
			case line == "rows:":
				section = &cur.rows
			case strings.HasPrefix(line, "  ") && section != nil:
				*section = append(*section, strings.TrimPrefix(line, "  "))
			default:
				t.Fatalf("%s:%d: cannot parse %q", file, n, line)
			}
		}
		f.Close()
	}
	return cases
}

func writeSuite(t *testing.T, cases []*suiteCase) {
	byFile := map[string][]*suiteCase{}
	var files []string
	for _, c := range cases {
		if _, ok := byFile[c.file]; !ok {
			files = append(files, c.file)
		}
		byFile[c.file] = append(byFile[c.file], c)
	}
	for _, file := range files {
		var b strings.Builder
		for i, c := range byFile[file] {
			if i > 0 {
				b.WriteString("\n")
			}
			for _, l := range c.comment {
				b.WriteString(l + "\n")
			}
			fmt.Fprintf(&b, "query: %s\nmin-calls: %d\ncalls:\n", c.query, c.minCalls)
			for _, l := range c.calls {
				b.WriteString("  " + l + "\n")
			}
			b.WriteString("rows:\n")
			for _, l := range c.rows {
				b.WriteString("  " + l + "\n")
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runCase runs one query and returns the requests it sent and its rows
// (sorted unless the query orders them itself).
func runCase(t testing.TB, e *env, q string) (calls, rows []string) {
	got, calls := e.calls(t, q)
	for _, r := range got {
		vals := make([]string, len(r))
		for i, v := range r {
			if v.Valid {
				vals[i] = v.String
			} else {
				vals[i] = "NULL"
			}
		}
		rows = append(rows, strings.Join(vals, "\t"))
	}
	if !strings.Contains(strings.ToUpper(q), "ORDER BY") {
		sort.Strings(rows)
	}
	return calls, rows
}

func TestPushdownSuite(t *testing.T) {
	cases := readSuite(t)
	if len(cases) < 60 {
		t.Errorf("the suite has %d queries; it should cover at least 60", len(cases))
	}
	e := newEnv(t)
	total, minimum := 0, 0
	for _, c := range cases {
		calls, rows := runCase(t, e, c.query)
		total += len(calls)
		minimum += c.minCalls
		where := fmt.Sprintf("%s:%d: %s", filepath.Base(c.file), c.line, c.query)
		if *update {
			c.calls, c.rows = normalizeRetrieves(calls), rows
			continue
		}
		if joinLines(sortedCalls(calls)) != joinLines(sortedCalls(c.calls)) {
			t.Errorf("%s\n calls:\n  %s\n want:\n  %s", where, strings.Join(calls, "\n  "), strings.Join(c.calls, "\n  "))
		}
		if joinLines(rows) != joinLines(c.rows) {
			t.Errorf("%s\n rows:\n  %s\n want:\n  %s", where, strings.Join(rows, "\n  "), strings.Join(c.rows, "\n  "))
		}
		if len(calls) != c.minCalls {
			t.Errorf("%s: %d calls, but %d can answer it", where, len(calls), c.minCalls)
		}
		if len(c.rows) == 0 && !strings.Contains(strings.Join(c.comment, " "), "no rows") {
			t.Errorf("%s: the query returns no rows; say 'no rows' in its comment if that is the point", where)
		}
	}
	if *update {
		writeSuite(t, cases)
	}
	t.Logf("pushdown suite: %d queries, %d Stripe calls, minimum %d, ratio %.2f", len(cases), total, minimum, float64(total)/float64(max(minimum, 1)))
}

// sortedCalls is calls in sorted order, for comparing them as a multiset.
func sortedCalls(calls []string) []string {
	out := append([]string(nil), calls...)
	sort.Strings(out)
	return out
}

// normalizeRetrieves sorts each run of consecutive retrieves (GETs of one
// object: no query string). A plan's retrieves go out concurrently, so
// their order varies; every other call keeps its exact place.
func normalizeRetrieves(calls []string) []string {
	out := append([]string(nil), calls...)
	isRetrieve := func(c string) bool { return strings.HasPrefix(c, "GET ") && !strings.Contains(c, "?") }
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && isRetrieve(out[j]) {
			j++
		}
		if j > i {
			sort.Strings(out[i:j])
			i = j
		} else {
			i++
		}
	}
	return out
}

// BenchmarkPushdownSuite reports the Stripe calls the suite makes against
// the minimum its cases record: a ratio above 1.00 means some query
// spends calls it does not need.
func BenchmarkPushdownSuite(b *testing.B) {
	cases := readSuite(b)
	e := newEnv(b)
	b.ResetTimer()
	var total, minimum int
	for range b.N {
		total, minimum = 0, 0
		for _, c := range cases {
			e.emu.ResetRequests()
			if _, err := e.db.Exec(c.query); err != nil {
				b.Fatalf("%s: %v", c.query, err)
			}
			total += len(e.emu.Requests())
			minimum += c.minCalls
		}
	}
	b.ReportMetric(float64(total), "calls")
	b.ReportMetric(float64(minimum), "min-calls")
	b.ReportMetric(float64(total)/float64(max(minimum, 1)), "calls/min")
	fmt.Printf("pushdown suite: %d queries, %d Stripe calls, minimum %d, ratio %.2f\n", len(cases), total, minimum, float64(total)/float64(max(minimum, 1)))
}
