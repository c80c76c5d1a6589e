package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchSmoke runs the benchmark's scans at a tiny size through the
// built binary (which starts itself as the server) and checks what it
// prints: the rows match the emulator's ids, and the requests are the
// pages, give or take the few a scan may add.
func TestBenchSmoke(t *testing.T) {
	out, stderr, err := runBinary(t, nil, "bench", "--quick", "--scenarios", "count,select",
		"--customers", "450", "--latency", "1ms", "--endpoint-rate", "0")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, stderr)
	}
	// The run's length and the machine's load end the output (where
	// /proc/loadavg exists).
	if !regexp.MustCompile(`\n# done in [0-9]+ s(, load average [0-9.]+ [0-9.]+ [0-9.]+)?\n$`).MatchString(out) {
		t.Errorf("the output does not end with the run's length (and load):\n%s", out)
	}
	// The header names the emulator's GOGC, which the bench sets (by
	// default) so that the emulator's collections leave the server the CPU.
	if header, _, _ := strings.Cut(out, "\n"); !strings.Contains(header, ", emulator GOGC 400") {
		t.Errorf("the header does not name the emulator's GOGC: %s", header)
	}
	// Each query runs cold (first on a fresh server) and warm (again on
	// it): both rows are printed.
	rows := regexp.MustCompile("(?m)^\\| (count|select) (cold|warm) \\|.*$").FindAllString(out, -1)
	if len(rows) != 4 {
		t.Fatalf("want a cold and a warm row of count and of select, got:\n%s", out)
	}
	for i, want := range []string{"| count cold |", "| count warm |", "| select cold |", "| select warm |"} {
		if !strings.HasPrefix(rows[i], want) {
			t.Errorf("row %d = %s, want it to start %s", i, rows[i], want)
		}
	}
	for _, row := range rows {
		cells := strings.Split(row, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		// | scenario | query | latency | limit | rows | seconds | requests | pages | 429s | ... | rows checked |
		rowsN, _ := strconv.Atoi(cells[5])
		requests, _ := strconv.Atoi(cells[7])
		pages, _ := strconv.Atoi(cells[8])
		// Besides the pages: the test-clock list, and the empty or
		// partial pages of the created ranges a list is split into after
		// its first 3 pages (at most 4 for a list this short).
		if rowsN != 450 || pages != 5 || requests < pages || requests > pages+5 || cells[9] != "0" {
			t.Errorf("rows %d, requests %d, pages %d, 429s %s; want 450 rows, 5 pages, 5 to 10 requests, no 429:\n%s", rowsN, requests, pages, cells[9], row)
		}
		check := cells[len(cells)-2]
		switch strings.Fields(cells[1])[0] {
		case "count":
			if check != "count 450, emulator 450" {
				t.Errorf("count check %q", check)
			}
		case "select":
			if check != "450 of 450 ids, 0 missing, 0 repeated" {
				t.Errorf("select check %q", check)
			}
		}
	}
}
