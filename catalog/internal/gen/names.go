package main

import (
	"strings"
	"unicode"
)

// pascal turns a Stripe name into PascalCase: unit_amount → UnitAmount,
// checkout.session → CheckoutSession.
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r == '_' || r == '.' || r == '-' || r == ' ' || r == '/':
			up = true
		case up:
			b.WriteRune(unicode.ToUpper(r))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plural returns the English plural of a PascalCase or snake_case name.
func plural(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "settings"), strings.HasSuffix(lower, "instructions"):
		return s
	case strings.HasSuffix(lower, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	}
	return s + "s"
}

// singular undoes plural for the names the catalog uses.
func singular(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "settings"), strings.HasSuffix(lower, "instructions"):
		return s
	case strings.HasSuffix(lower, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(lower, "sses"), strings.HasSuffix(lower, "xes"), strings.HasSuffix(lower, "ches"), strings.HasSuffix(lower, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(lower, "ss"):
		return s
	case strings.HasSuffix(lower, "s"):
		return s[:len(s)-1]
	}
	return s
}

// segments splits a path template into its segments after /v1.
func segments(path string) []string {
	return strings.Split(strings.TrimPrefix(path, "/v1/"), "/")
}

func isPlaceholder(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
}

// shape is a path template with its placeholders anonymised, so that
// /v1/transfers/{id}/reversals and /v1/transfers/{transfer}/reversals match.
func shape(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isPlaceholder(s) {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// summary is the first sentence of a spec description, without markdown
// links and emphasis, at most maxLen characters: a column or procedure
// comment.
func summary(desc string, maxLen int) string {
	s := stripMarkdown(desc)
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	for _, end := range []string{". ", ".\t"} {
		if i := strings.Index(s, end); i >= 0 {
			s = s[:i+1]
		}
	}
	s = strings.TrimSpace(s)
	if len(s) > maxLen {
		cut := strings.LastIndex(s[:maxLen], " ")
		if cut < maxLen/2 {
			cut = maxLen
		}
		s = strings.TrimRight(s[:cut], " ,;:") + "…"
	}
	return s
}

// stripMarkdown removes [text](url) links (keeping text), backticks,
// asterisks and HTML-ish tags.
func stripMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '`', '*':
			continue
		case '[':
			end := strings.Index(s[i:], "](")
			if end > 0 {
				close := strings.Index(s[i+end:], ")")
				if close > 0 {
					b.WriteString(s[i+1 : i+end])
					i += end + close
					continue
				}
			}
		case '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 && end < 40 {
				i += end
				continue
			}
		}
		b.WriteByte(c)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
