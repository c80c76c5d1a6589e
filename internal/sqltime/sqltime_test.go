package sqltime

import (
	"testing"
	"time"
)

func TestWallAndInstantInNewYork(t *testing.T) {
	ny := location("America/New_York")
	cases := []struct {
		instant string // UTC
		wall    string // New York clock
	}{
		{"2024-01-15T17:00:00Z", "2024-01-15T12:00:00Z"}, // EST, -5
		{"2024-07-15T16:00:00Z", "2024-07-15T12:00:00Z"}, // EDT, -4
		{"2024-03-10T06:59:59Z", "2024-03-10T01:59:59Z"}, // last second before spring forward
		{"2024-03-10T07:00:00Z", "2024-03-10T03:00:00Z"}, // first second after
		{"2024-11-03T05:30:00Z", "2024-11-03T01:30:00Z"}, // first 01:30 of the fall-back day (EDT)
	}
	for _, c := range cases {
		instant, _ := time.Parse(time.RFC3339, c.instant)
		wall, _ := time.Parse(time.RFC3339, c.wall)
		if got := Wall(instant, ny); !got.Equal(wall) {
			t.Errorf("Wall(%s) = %s, want %s", c.instant, got, c.wall)
		}
		if got := Instant(wall, ny); !got.Equal(instant) {
			t.Errorf("Instant(%s) = %s, want %s", c.wall, got.UTC(), c.instant)
		}
	}
	// 01:30 on the fall-back day is two instants.
	twice, _ := time.Parse(time.RFC3339, "2024-11-03T01:30:00Z")
	first, last := Instants(twice, ny)
	if first.UTC().Format(time.RFC3339) != "2024-11-03T05:30:00Z" || last.UTC().Format(time.RFC3339) != "2024-11-03T06:30:00Z" {
		t.Errorf("Instants(01:30 on the fall-back day) = %s, %s; want 05:30Z and 06:30Z", first.UTC(), last.UTC())
	}
	if first, last := Instants(wall(t, "2024-07-15T12:00:00Z"), ny); !first.Equal(last) {
		t.Errorf("an ordinary reading is one instant, got %s and %s", first, last)
	}
	// 02:30 does not exist on the spring-forward day: MySQL takes 03:00.
	skipped, _ := time.Parse(time.RFC3339, "2024-03-10T02:30:00Z")
	if got := Instant(skipped, ny).UTC().Format(time.RFC3339); got != "2024-03-10T07:00:00Z" {
		t.Errorf("Instant(02:30 on the spring-forward day) = %s, want 2024-03-10T07:00:00Z", got)
	}
}

func TestZoneNames(t *testing.T) {
	if got := location("+05:30"); got.String() != "+05:30" {
		t.Errorf("+05:30 is %s", got)
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := Wall(at, location("+05:30")); got.Hour() != 5 || got.Minute() != 30 {
		t.Errorf("midnight UTC at +05:30 reads %s", got)
	}
	if got := Wall(at, location("-08:00")); got.Day() != 31 || got.Hour() != 16 {
		t.Errorf("midnight UTC at -08:00 reads %s", got)
	}
	if location("UTC") != time.UTC || location("Not/AZone") != time.UTC {
		t.Errorf("UTC and unknown zones read as UTC")
	}
}

func wall(t *testing.T, s string) time.Time {
	t.Helper()
	w, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
