// Package sqltime converts between Stripe's instants (Unix seconds) and the
// TIMESTAMP values of a MySQL session, which MySQL shows and compares in the
// session's time zone (@@time_zone).
//
// go-mysql-server holds a TIMESTAMP as a wall-clock time: a time.Time in UTC
// whose fields are the clock reading, with no zone of its own. So a table
// hands it an instant as the clock reads in the session's zone (Wall), and a
// literal the engine compares with a column ('2024-03-10 02:30:00', or
// FROM_UNIXTIME(…), which the engine computes in the session's zone) means
// that clock reading in the session's zone (Instant). With the default zone,
// UTC, both are the identity.
package sqltime

import (
	"strings"
	"sync"
	"time"
	// Named zones (America/New_York) resolve without the system's zoneinfo:
	// the binary is static and may run where /usr/share/zoneinfo is absent.
	_ "time/tzdata"

	"github.com/dolthub/go-mysql-server/sql"
)

// Zone returns the session's time zone: a named zone, a MySQL offset
// ("+05:30") or SYSTEM (the server process's zone). A context without a
// session, or a value the engine accepted but Go cannot read, is UTC.
func Zone(ctx *sql.Context) *time.Location {
	if ctx == nil || ctx.Session == nil {
		return time.UTC
	}
	v, err := ctx.GetSessionVariable(ctx, "time_zone")
	if err != nil {
		return time.UTC
	}
	name, _ := v.(string)
	return location(name)
}

var zones sync.Map // zone name → *time.Location

func location(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc := parse(name)
	zones.Store(name, loc)
	return loc
}

func parse(name string) *time.Location {
	switch {
	case name == "" || strings.EqualFold(name, "SYSTEM"):
		return time.Local
	case strings.EqualFold(name, "UTC"):
		return time.UTC
	case name[0] == '+' || name[0] == '-':
		if d, err := sql.MySQLOffsetToDuration(name); err == nil {
			return time.FixedZone(name, int(d/time.Second))
		}
		return time.UTC
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// Wall returns instant t as the engine holds a TIMESTAMP of a session in
// loc: the clock reading in loc, in a UTC time.Time.
func Wall(t time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return t.UTC()
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// Instant returns the instant a wall-clock TIMESTAMP value w of a session in
// loc stands for. A reading that a daylight-saving change skips (02:30 on
// the spring-forward day) is taken as the instant after the gap, as MySQL
// does; one that occurs twice (the fall-back hour) as its first occurrence.
func Instant(w time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return w
	}
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	back := Wall(t, loc)
	if back.Equal(w) {
		return t
	}
	// w is in a gap: no instant reads w. The first instant after the gap
	// is the first whose reading is not before w; it lies within the
	// gap's length of t (Go picks either side of the gap).
	lo, hi := t.Add(-back.Sub(w)), t
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if Wall(mid, loc).Before(w) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// Instants returns the first and the last instant a wall-clock reading w
// stands for in loc: the same instant, except in the hour a daylight-saving
// change repeats (01:30 on the fall-back day is two instants). A range
// bound that must not drop a row uses the first for a lower bound and the
// last for an upper one.
func Instants(w time.Time, loc *time.Location) (first, last time.Time) {
	first = Instant(w, loc)
	last = first
	if loc == time.UTC {
		return first, last
	}
	// Zones shift their clocks by multiples of 15 minutes, by 3 hours at
	// the most: any other instant reading w is one of these.
	for k := 1; k <= 12; k++ {
		if t := first.Add(time.Duration(k) * 15 * time.Minute); Wall(t, loc).Equal(w) {
			last = t
		}
	}
	return first, last
}
