package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTimestampsFollowTheSessionTimeZone: under SET time_zone, TIMESTAMP
// columns read as the session's clock, literals compared with them mean
// that clock, and the created[gte] sent to Stripe is the instant the
// literal names, as MySQL would answer for the same data. The expected
// values are computed here from the emulator's Unix times with Go's zone
// database.
func TestTimestampsFollowTheSessionTimeZone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conn := pinnedConn(t, e)
	mustExec(t, conn, "SET time_zone = 'America/New_York'")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	bounds := []string{"2024-03-10 03:00:00", "2024-03-10 01:59:59", "2024-11-03 01:30:00", "2024-06-01 00:00:00", "2024-12-01 12:00:00"}
	// Customers around each bound, so that a bound off by an hour or by
	// the zone's offset counts differently.
	for _, b := range bounds {
		wall, _ := time.ParseInLocation(time.DateTime, b, ny)
		for _, d := range []int64{-5 * 3600, -3601, -1, 0, 1, 3599, 5 * 3600} {
			e.emu.Put(map[string]any{"object": "customer", "email": "tz@example.com", "created": wall.Unix() + d})
		}
	}
	var created []int64
	for _, id := range e.emu.IDs("customer") {
		n, _ := e.emu.Get("customer", id)["created"].(json.Number)
		c, _ := n.Int64()
		if c == 0 {
			c = int64(toFloat(e.emu.Get("customer", id)["created"]))
		}
		created = append(created, c)
	}
	// The newest customer shows New York's clock.
	id := e.emu.IDs("customer")[0]
	secs := created[0]
	var shown string
	if err := conn.QueryRowContext(ctx, "SELECT DATE_FORMAT(Created, '%Y-%m-%d %H:%i:%s') FROM Customers WHERE Id = ?", id).Scan(&shown); err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(secs, 0).In(ny).Format(time.DateTime); shown != want {
		t.Errorf("Created of %s reads %s in New York, want %s", id, shown, want)
	}
	// FROM_UNIXTIME is the session's clock too: nothing is newer than an
	// hour after the newest customer.
	var n int
	newest := created[0]
	for _, c := range created {
		newest = max(newest, c)
	}
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM Customers WHERE Created >= FROM_UNIXTIME(%d)", newest+3600)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d customers created at or after FROM_UNIXTIME(newest + 3600); MySQL finds none", n)
	}
	// Ranges across the daylight-saving changes of 2024: a literal is New
	// York's clock, and the bound sent to Stripe is its instant.
	for _, bound := range bounds {
		// MySQL compares a TIMESTAMP with a literal as clock readings in
		// the session's zone: in the hour that repeats when daylight
		// saving ends, an instant after the literal's first instant can
		// read earlier than the literal.
		wall, _ := time.ParseInLocation(time.DateTime, bound, ny)
		for _, op := range []string{">=", "<="} {
			want := 0
			for _, c := range created {
				read := time.Unix(c, 0).In(ny).Format(time.DateTime)
				if op == ">=" && read >= bound || op == "<=" && read <= bound {
					want++
				}
			}
			for _, pushdown := range []string{"off", "on"} {
				mustExec(t, conn, "SET stripe_pushdown = '"+pushdown+"'")
				e.emu.ResetRequests()
				if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM Customers WHERE Created "+op+" '"+bound+"'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Errorf("pushdown %s: Created %s '%s' (New York): %d customers, want %d", pushdown, op, bound, n, want)
				}
			}
		}
		mustExec(t, conn, "SELECT COUNT(*) FROM Customers WHERE Created >= '"+bound+"'")
		gte := "created%5Bgte%5D=" + strconv.FormatInt(wall.Unix(), 10)
		sent := false
		for _, r := range e.emu.Requests() {
			if strings.Contains(r.RawQuery, gte) {
				sent = true
			}
		}
		if !sent {
			var lines []string
			for _, r := range e.emu.Requests() {
				lines = append(lines, r.Path+"?"+r.RawQuery)
			}
			t.Errorf("Created >= '%s' (New York) should send %s; sent:\n%s", bound, gte, strings.Join(lines, "\n"))
		}
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}
