package stripeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeObject decodes a response body holding one JSON object into the
// values encoding/json (with UseNumber) would produce: map[string]any,
// []any, string, json.Number, bool and nil.
//
// It is a single-pass parser rather than encoding/json because decoding is
// most of what a scan costs (issue 9: 48% of the server's CPU): encoding/json
// scans each value twice (once to find its end, once to decode) and
// allocates every key of every object, whereas a list page repeats the same
// few dozen keys a hundred times. Here each distinct key of a body is
// allocated once and shared, and each map is made with room for as many
// entries as the previous object at the same depth had, so pages of like
// objects do not regrow their maps. TestDecodeMatchesEncodingJSON and
// FuzzDecode check it against encoding/json.
func decodeObject(body []byte) (Object, error) {
	d := decoder{data: body, keys: make(map[string]string, 64)}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if _, err := d.value(0); err != nil {
			return nil, err
		}
		return nil, errors.New("response is not a JSON object")
	}
	m, err := d.object(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the top-level object")
	}
	return m, nil
}

// maxDepth bounds nesting, so a hostile body cannot exhaust the stack.
// Stripe objects nest a handful of levels (expand[] allows four).
const maxDepth = 512

type decoder struct {
	data []byte
	pos  int
	// keys interns object keys: each distinct key of a body is one string.
	keys map[string]string
	// sizes[depth] is the entry count of the last object at that depth,
	// the capacity of the next map made there.
	sizes [16]int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at d.pos, which follows any whitespace.
func (d *decoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		m, err := d.object(depth + 1)
		if err != nil {
			return nil, err
		}
		return map[string]any(m), nil
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("unexpected character %q", c)
	}
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.errorf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// object decodes the object at d.pos, which is '{'.
func (d *decoder) object(depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, d.errorf("nesting deeper than %d", maxDepth)
	}
	hint := 0
	if depth < len(d.sizes) {
		hint = d.sizes[depth]
	}
	m := make(map[string]any, hint)
	d.pos++ // '{'
	if d.closes('}') {
		return m, nil
	}
	for {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
		if done, err := d.next('}', "an object"); err != nil {
			return nil, err
		} else if done {
			if depth < len(d.sizes) {
				d.sizes[depth] = len(m)
			}
			return m, nil
		}
	}
}

// array decodes the array at d.pos, which is '['.
func (d *decoder) array(depth int) ([]any, error) {
	return d.arrayOf(depth, d.value)
}

// arrayOf decodes the array at d.pos, which is '[', each element with
// elem (given depth).
func (d *decoder) arrayOf(depth int, elem func(depth int) (any, error)) ([]any, error) {
	if depth > maxDepth {
		return nil, d.errorf("nesting deeper than %d", maxDepth)
	}
	d.pos++ // '['
	out := []any{}
	if d.closes(']') {
		return out, nil
	}
	for {
		v, err := elem(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if done, err := d.next(']', "an array"); err != nil {
			return nil, err
		} else if done {
			return out, nil
		}
	}
}

// closes moves past close if it is the next byte after white space: the
// end of an empty object or array, just opened.
func (d *decoder) closes(close byte) bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == close {
		d.pos++
		return true
	}
	return false
}

// next moves past the ',' or the close that must follow a member of an
// object or array (what), and reports whether it was the close.
func (d *decoder) next(close byte, what string) (done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.errorf("unexpected end of input in %s", what)
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		return false, nil
	case close:
		d.pos++
		return true, nil
	}
	return false, d.errorf("want ',' or '%c' in %s", close, what)
}

// memberKey reads an object member's key and the ':' after it (skipping
// whitespace before each), leaving d.pos at its value: raw is the key's
// text between the quotes, plain when it holds no escape.
func (d *decoder) memberKey() (raw []byte, plain bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false, d.errorf("want an object key")
	}
	if raw, plain, err = d.scanString(); err != nil {
		return nil, false, err
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return nil, false, d.errorf("want ':' after an object key")
	}
	d.pos++
	return raw, plain, nil
}

// key decodes an object member's key, interned, and the ':' after it.
func (d *decoder) key() (string, error) {
	raw, plain, err := d.memberKey()
	if err != nil {
		return "", err
	}
	if plain {
		return d.intern(raw), nil
	}
	return unquote(raw), nil
}

// str decodes a string value.
func (d *decoder) str() (string, error) {
	raw, plain, err := d.scanString()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	return unquote(raw), nil
}

// scanString finds the string at d.pos (a '"') and moves past it. raw is
// its content between the quotes; plain reports that raw is already the
// value (no escapes, valid UTF-8).
func (d *decoder) scanString() (raw []byte, plain bool, err error) {
	start := d.pos + 1
	plain = true
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			raw = d.data[start:i]
			if !ascii && plain && !utf8.Valid(raw) {
				plain = false // invalid bytes become U+FFFD, as in encoding/json
			}
			return raw, plain, nil
		case c == '\\':
			plain = false
			i++
			if i >= len(d.data) {
				break
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) {
					d.pos = i
					return nil, false, d.errorf("short \\u escape")
				}
				for _, h := range d.data[i+1 : i+5] {
					if !isHex(h) {
						d.pos = i
						return nil, false, d.errorf("invalid \\u escape")
					}
				}
				i += 4
			default:
				d.pos = i
				return nil, false, d.errorf("invalid escape %q", d.data[i])
			}
		case c < 0x20:
			d.pos = i
			return nil, false, d.errorf("control character in a string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.pos = len(d.data)
	return nil, false, d.errorf("unterminated string")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unquote decodes the content of a string that scanString checked, with
// encoding/json's rules: invalid UTF-8 and unpaired surrogates become
// U+FFFD.
func unquote(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			i++
			switch raw[i] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+1 : i+5])
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair is two escapes in a row (scanString checked
					// that every \u has four hex digits); anything else
					// is an unpaired surrogate, U+FFFD.
					if i+7 <= len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(raw[i+3:i+7])); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 7
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, raw[i])
			}
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// number decodes a number as json.Number, checking JSON's grammar.
func (d *decoder) number() (json.Number, error) {
	start := d.pos
	if err := d.scanNumber(); err != nil {
		return "", err
	}
	return json.Number(d.data[start:d.pos]), nil
}

// scanNumber moves past the number at d.pos, checking JSON's grammar.
func (d *decoder) scanNumber() error {
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		i = d.digits(i)
	default:
		d.pos = i
		return d.errorf("invalid number")
	}
	var err error
	if i < len(d.data) && d.data[i] == '.' {
		if i, err = d.someDigits(i + 1); err != nil {
			return err
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i, err = d.someDigits(i); err != nil {
			return err
		}
	}
	d.pos = i
	return nil
}

// digits returns the end of the run of decimal digits from i.
func (d *decoder) digits(i int) int {
	for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
		i++
	}
	return i
}

// someDigits is digits where JSON wants at least one (a fraction, an
// exponent): without one, an error at i.
func (d *decoder) someDigits(i int) (int, error) {
	end := d.digits(i)
	if end == i {
		d.pos = i
		return i, d.errorf("invalid number")
	}
	return end, nil
}
