package mysqlfuncs

import (
	"strings"
	"time"
)

// hasWeekFormat tells a STR_TO_DATE format that names a week.
func hasWeekFormat(f string) bool {
	for _, v := range []string{"%X", "%V", "%x", "%v", "%U", "%u"} {
		if strings.Contains(f, v) {
			return true
		}
	}
	return false
}

// parseWeekDate parses s by a format of week fields (MySQL's %X year and
// %V week with Sunday first, %x and %v with Monday first, %U and %u with
// %Y), a weekday (%W name, %a abbreviation, %w number) and literal text.
// It reports false where MySQL returns NULL: text that does not match,
// another field, or a week without its weekday.
func parseWeekDate(s, f string) (time.Time, bool) {
	year, week, weekday := -1, -1, -1
	sundayFirst, iso := true, false
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			if len(s) == 0 || s[0] != f[i] {
				return time.Time{}, false
			}
			s = s[1:]
			continue
		}
		i++
		var n, used int
		switch f[i] {
		case 'X', 'x', 'Y':
			n, used = digits(s, 4)
			year = n
			if f[i] == 'x' {
				sundayFirst, iso = false, true
			}
		case 'V', 'v', 'U', 'u':
			n, used = digits(s, 2)
			week = n
			switch f[i] {
			case 'v':
				sundayFirst, iso = false, true
			case 'u':
				sundayFirst = false
			}
		case 'w':
			n, used = digits(s, 1)
			weekday = n
		case 'W', 'a':
			for d := time.Sunday; d <= time.Saturday; d++ {
				name := d.String()
				if f[i] == 'a' {
					name = name[:3]
				}
				if len(s) >= len(name) && strings.EqualFold(s[:len(name)], name) {
					weekday, used = int(d), len(name)
					break
				}
			}
		default:
			return time.Time{}, false
		}
		if used == 0 {
			return time.Time{}, false
		}
		s = s[used:]
	}
	if year < 0 || week < 0 || weekday < 0 || weekday > 6 {
		return time.Time{}, false
	}
	// offset is the weekday's distance from the week's first day.
	offset := weekday
	if !sundayFirst {
		offset = (weekday + 6) % 7
	}
	var first time.Time // the first day of week 1
	jan1 := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
	switch {
	case iso:
		// %x%v: week 1 is the week (Monday first) with 4 or more days in
		// the year, the one holding January 4th.
		jan4 := jan1.AddDate(0, 0, 3)
		first = jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	case sundayFirst:
		// %X%V and %U: week 1 starts on the year's first Sunday (%U counts
		// the days before it as week 0).
		first = jan1.AddDate(0, 0, (7-int(jan1.Weekday()))%7)
	default:
		// %u: week 1 is the first week (Monday first) with 4 or more days
		// in the year; the days before it are week 0.
		jan4 := jan1.AddDate(0, 0, 3)
		first = jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	}
	return first.AddDate(0, 0, (week-1)*7+offset), true
}

// digits reads up to max leading decimal digits of s.
func digits(s string, max int) (n, used int) {
	for used < len(s) && used < max && s[used] >= '0' && s[used] <= '9' {
		n = n*10 + int(s[used]-'0')
		used++
	}
	return n, used
}
