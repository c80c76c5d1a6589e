package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestBenchMirrorSmoke runs the mirror's scenarios (stripesql bench
// --mirror) at tiny sizes through the built binary and checks what it
// prints: every row checked against the emulator, the mirror's queries
// sent no request to Stripe, every change of the lag scenario was seen.
// Timings are the benchmark's business, not the test's.
func TestBenchMirrorSmoke(t *testing.T) {
	out, stderr, err := runBinary(t, nil, "bench", "--quick", "--mirror", "--latency", "1ms",
		"--mirror-backfill", "450", "--mirror-objects", "3000", "--point-queries", "20",
		"--lag-changes", "3", "--mirror-interval", "300ms")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, stderr)
	}
	rows := regexp.MustCompile("(?m)^\\| (backfill|mirror|lag) \\|.*$").FindAllString(out, -1)
	if len(rows) != 7 {
		t.Fatalf("want a backfill row, 5 mirror rows and a lag row, got:\n%s", out)
	}
	for _, row := range rows {
		cells := strings.Split(row, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		// | scenario | query | latency | limit | rows | seconds | requests | pages | 429s | bound | ratio | rows/s | idle | peak | rows checked |
		query, rowsN, requests, check := cells[2], cells[5], cells[7], cells[len(cells)-2]
		switch {
		case cells[1] == "backfill":
			if rowsN != "450" || !strings.HasPrefix(check, "450 of 450 ids, 0 missing, 0 repeated (through the mirror; status: 450 objects, 450 backfilled)") {
				t.Errorf("backfill: rows %s, check %q", rowsN, check)
			}
		case strings.Contains(query, "(backfill)"):
			if rowsN != "3000" || !strings.HasPrefix(check, "status: 3000 objects, emulator 3000; backfilled in this run") {
				t.Errorf("mirror backfill: rows %s, check %q", rowsN, check)
			}
		case strings.Contains(query, "COUNT(*) FROM Charges`"):
			if rowsN != "3000" || requests != "0" || !strings.HasPrefix(check, "count 3000, emulator 3000") {
				t.Errorf("mirror count: rows %s, requests %s, check %q", rowsN, requests, check)
			}
		case strings.Contains(query, "GROUP BY"):
			if requests != "0" || !strings.HasPrefix(check, "12 months of 3000 charges, 0 wrong of 12") {
				t.Errorf("mirror aggregate: requests %s, check %q", requests, check)
			}
		case strings.Contains(query, "WHERE Id"):
			if rowsN != "20" || requests != "0" || !strings.HasPrefix(check, "20 of 20 rows right") {
				t.Errorf("mirror point queries: rows %s, requests %s, check %q", rowsN, requests, check)
			}
		case cells[1] == "lag":
			if rowsN != "3" || !strings.HasPrefix(check, "3 changes (create, update, delete)") || strings.Contains(check, "not visible") {
				t.Errorf("lag: rows %s, check %q", rowsN, check)
			}
		default:
			t.Errorf("unexpected row %s", row)
		}
		if !strings.Contains(check, "server peak RSS") {
			t.Errorf("no peak RSS in %q", check)
		}
	}
}
