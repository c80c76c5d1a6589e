package mysqlfuncs

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// newDateFormat is DATE_FORMAT with its format, when a constant made only of
// the common specifiers, compiled once: the engine's compiles the format on
// every row (about 1 µs of a monthly GROUP BY's few µs per row). Any other
// format is the engine's own expression. The output is the engine's, specifier
// for specifier (including where it differs from MySQL, e.g. %y unpadded).
func newDateFormat(ctx *sql.Context, date, format sql.Expression) sql.Expression {
	engine := function.NewDateFormat(ctx, date, format)
	df, ok := engine.(*function.DateFormat)
	if !ok {
		return engine
	}
	l, ok := format.(*expression.Literal)
	if !ok {
		return engine
	}
	s, ok := l.Value().(string)
	if !ok {
		return engine
	}
	parts, ok := compileDateFormat(s)
	if !ok {
		return engine
	}
	return &dateFormat{DateFormat: df, parts: parts, unit: formatUnit(parts)}
}

// dateFormat is the engine's DATE_FORMAT (name, type, String, collation,
// nullability) with a precompiled constant format.
type dateFormat struct {
	*function.DateFormat
	parts []formatPart
	// unit is the finest part of a date the format shows: 'm' (year and
	// month only), 'd' (down to the day), or 0 (a time of day). For 'm'
	// and 'd' the last result is kept with its month or day: a GROUP BY
	// month or day formats one bucket for row after row, and then returns
	// the kept value, neither formatting nor allocating.
	unit byte
	last atomic.Pointer[formatted]
}

// formatted is a result kept for the month or day key of its date.
type formatted struct {
	key int
	val any
}

// formatUnit is a format's unit (see dateFormat.unit).
func formatUnit(parts []formatPart) byte {
	unit := byte('m')
	for _, p := range parts {
		switch p.spec {
		case 0, 'Y', 'y', 'm', 'c', 'M', 'b':
		case 'd', 'e', 'W', 'a':
			unit = 'd'
		default:
			return 0
		}
	}
	return unit
}

// formatPart is verbatim text, or one specifier (spec != 0).
type formatPart struct {
	text string
	spec byte
}

// compileDateFormat splits a format into parts; false if it holds a
// specifier not handled here (or a flag, or a stray % at the end), which
// the engine's function then formats.
func compileDateFormat(f string) ([]formatPart, bool) {
	var parts []formatPart
	start := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 >= len(f) {
			return nil, false
		}
		c := f[i+1]
		switch c {
		case 'Y', 'y', 'm', 'c', 'd', 'e', 'H', 'k', 'i', 's', 'S', 'T', 'f', 'M', 'b', 'W', 'a', 'p', '%':
		default:
			return nil, false
		}
		if i > start {
			parts = append(parts, formatPart{text: f[start:i]})
		}
		if c == '%' {
			parts = append(parts, formatPart{text: "%"})
		} else {
			parts = append(parts, formatPart{spec: c})
		}
		i++
		start = i + 1
	}
	if start < len(f) {
		parts = append(parts, formatPart{text: f[start:]})
	}
	return parts, true
}

func (f *dateFormat) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	left, err := f.LeftChild.Eval(ctx, row)
	if err != nil || left == nil {
		return nil, err
	}
	t, ok := left.(time.Time)
	var (
		y, d int
		m    time.Month
	)
	if ok {
		// What the engine's conversion to DATETIME(6) makes of a time, without
		// boxing it: UTC, rounded to the microsecond, and in range (else its
		// error, below).
		t = t.UTC().Round(time.Microsecond)
		y, m, d = t.Date()
		ok = y >= 0 && y <= 9999
	}
	if !ok {
		v, _, err := types.DatetimeMaxPrecision.Convert(ctx, left)
		if err != nil {
			return nil, err
		}
		t = v.(time.Time)
		y, m, d = t.Date()
	}
	key := -1
	if f.unit != 0 {
		key = y*16 + int(m)
		if f.unit == 'd' {
			key = key*32 + d
		}
		if last := f.last.Load(); last != nil && last.key == key {
			return last.val, nil
		}
	}
	var buf [64]byte
	b := buf[:0]
	for _, p := range f.parts {
		if p.spec == 0 {
			b = append(b, p.text...)
			continue
		}
		b = appendSpec(b, p.spec, t)
	}
	var out any = string(b)
	if key >= 0 {
		f.last.Store(&formatted{key: key, val: out})
	}
	return out, nil
}

func (f *dateFormat) WithChildren(ctx *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 2)
	}
	return newDateFormat(ctx, children[0], children[1]), nil
}

// appendSpec appends t formatted by one specifier, as the engine's
// DATE_FORMAT does.
func appendSpec(b []byte, spec byte, t time.Time) []byte {
	switch spec {
	case 'Y':
		return appendPadded(b, t.Year(), 4)
	case 'y':
		return strconv.AppendInt(b, int64(t.Year()%100), 10)
	case 'm':
		return appendPadded(b, int(t.Month()), 2)
	case 'c':
		return strconv.AppendInt(b, int64(t.Month()), 10)
	case 'd':
		return appendPadded(b, t.Day(), 2)
	case 'e':
		return strconv.AppendInt(b, int64(t.Day()), 10)
	case 'H':
		return appendPadded(b, t.Hour(), 2)
	case 'k':
		return strconv.AppendInt(b, int64(t.Hour()), 10)
	case 'i':
		return appendPadded(b, t.Minute(), 2)
	case 's', 'S':
		return appendPadded(b, t.Second(), 2)
	case 'T':
		b = appendPadded(b, t.Hour(), 2)
		b = append(b, ':')
		b = appendPadded(b, t.Minute(), 2)
		b = append(b, ':')
		return appendPadded(b, t.Second(), 2)
	case 'f':
		return appendPadded(b, t.Nanosecond()/int(time.Microsecond), 6)
	case 'M':
		return append(b, t.Month().String()...)
	case 'b':
		return append(b, t.Month().String()[:3]...)
	case 'W':
		return append(b, t.Weekday().String()...)
	case 'a':
		return append(b, t.Weekday().String()[:3]...)
	case 'p':
		if t.Hour() >= 12 {
			return append(b, "PM"...)
		}
		return append(b, "AM"...)
	}
	return b
}

// appendPadded appends n (≥ 0) in decimal, zero-padded to width (≥ 1) digits.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	i := len(d)
	for n > 0 || len(d)-i < width {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[i:]...)
}

// parseISODate parses exactly YYYY-MM-DD (month 01–12, day 01–31) as the
// engine's STR_TO_DATE(s, '%Y-%m-%d') does, day overflow included (it
// builds the time with time.Date, so 2025-02-31 is 2025-03-03); false for
// anything else, which the engine's function then parses.
func parseISODate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	m, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}
