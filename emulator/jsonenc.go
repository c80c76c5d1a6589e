package emulator

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encode renders a response body as Stripe does: indented JSON, with no
// HTML escaping. Its output is byte for byte that of encoding/json's
// Encoder with SetEscapeHTML(false) and SetIndent("", "  ") (a test holds
// it to that), written directly for the types objects hold: the reflective
// encoder and its second, indenting pass took most of the time of a list
// page, under the emulator's lock.
func encode(v any) []byte {
	b := appendJSON(make([]byte, 0, 4096), v, 0)
	return append(b, '\n')
}

const indentUnit = "  "

func appendJSON(b []byte, v any, depth int) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return appendString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case map[string]any:
		if len(x) == 0 {
			return append(b, "{}"...)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth+1)
			b = appendString(b, k)
			b = append(b, ": "...)
			b = appendJSON(b, x[k], depth+1)
		}
		b = newline(b, depth)
		return append(b, '}')
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth+1)
			b = appendJSON(b, e, depth+1)
		}
		b = newline(b, depth)
		return append(b, ']')
	}
	// Anything else (floats, typed slices) as encoding/json writes it.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Objects are built from JSON-compatible values only.
		panic("emulator: cannot encode response: " + err.Error())
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var ind bytes.Buffer
	prefix := ""
	for range depth {
		prefix += indentUnit
	}
	if err := json.Indent(&ind, raw, prefix, indentUnit); err != nil {
		panic("emulator: cannot indent response: " + err.Error())
	}
	return append(b, ind.Bytes()...)
}

func newline(b []byte, depth int) []byte {
	b = append(b, '\n')
	for range depth {
		b = append(b, indentUnit...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does without HTML escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
