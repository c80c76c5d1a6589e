package mirror

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stripesql/stripesql/stripeapi"
)

// The store keeps each object in a compact binary form rather than JSON,
// because a scan of a million objects is what the mirror is for, and most
// queries read a few columns: every value carries its length, so a reader
// skips the fields a query does not use without looking inside them, and
// decodes the ones it does without a JSON parser. Keys are sorted, so two
// snapshots of one object encode to the same bytes exactly when they hold
// the same values: the apply rule compares snapshots that way.
//
//	value  := tagNull | tagFalse | tagTrue
//	        | tagNumber len bytes   (the JSON number's text: amounts stay exact)
//	        | tagString len bytes
//	        | tagObject len count (keylen key value)*   (len: bytes after it)
//	        | tagArray  len count value*
//
// len and count are unsigned varints.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagNumber
	tagString
	tagObject
	tagArray
)

// encodeObject appends the encoding of obj to dst.
func encodeObject(dst []byte, obj map[string]any) ([]byte, error) {
	return encodeValue(dst, obj)
}

func encodeValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, tagNull), nil
	case bool:
		if v {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case json.Number:
		dst = append(dst, tagNumber)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		return append(dst, v...), nil
	case float64:
		n := json.Number(fmt.Sprint(v))
		return encodeValue(dst, n)
	case int64:
		return encodeValue(dst, json.Number(fmt.Sprint(v)))
	case int:
		return encodeValue(dst, json.Number(fmt.Sprint(v)))
	case string:
		dst = append(dst, tagString)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		return append(dst, v...), nil
	case stripeapi.Object:
		return encodeValue(dst, map[string]any(v))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var body []byte
		body = binary.AppendUvarint(body, uint64(len(keys)))
		var err error
		for _, k := range keys {
			body = binary.AppendUvarint(body, uint64(len(k)))
			body = append(body, k...)
			if body, err = encodeValue(body, v[k]); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		dst = append(dst, tagObject)
		dst = binary.AppendUvarint(dst, uint64(len(body)))
		return append(dst, body...), nil
	case []any:
		var body []byte
		body = binary.AppendUvarint(body, uint64(len(v)))
		var err error
		for i, e := range v {
			if body, err = encodeValue(body, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		dst = append(dst, tagArray)
		dst = binary.AppendUvarint(dst, uint64(len(body)))
		return append(dst, body...), nil
	}
	return nil, fmt.Errorf("mirror: cannot encode a %T", v)
}

var errCorrupt = errors.New("mirror: corrupt stored object")

// decoder reads encoded values. It interns keys, so a scan of many objects
// of one table allocates each field name once.
type decoder struct {
	keys map[string]string
}

func newDecoder() *decoder { return &decoder{keys: make(map[string]string, 64)} }

func (d *decoder) key(b []byte) string {
	if s, ok := d.keys[string(b)]; ok { // no allocation: the compiler optimises the lookup
		return s
	}
	s := string(b)
	if len(d.keys) < 4096 {
		d.keys[s] = s
	}
	return s
}

// uvarint reads a varint at b[*pos].
func uvarint(b []byte, pos *int) (uint64, error) {
	v, n := binary.Uvarint(b[*pos:])
	if n <= 0 {
		return 0, errCorrupt
	}
	*pos += n
	return v, nil
}

// span reads a length and returns the bytes it covers.
func span(b []byte, pos *int) ([]byte, error) {
	l, err := uvarint(b, pos)
	if err != nil {
		return nil, err
	}
	if uint64(len(b)-*pos) < l {
		return nil, errCorrupt
	}
	s := b[*pos : *pos+int(l)]
	*pos += int(l)
	return s, nil
}

// value decodes the value at b[*pos].
func (d *decoder) value(b []byte, pos *int) (any, error) {
	if *pos >= len(b) {
		return nil, errCorrupt
	}
	tag := b[*pos]
	*pos++
	switch tag {
	case tagNull:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagNumber, tagString:
		s, err := span(b, pos)
		if err != nil {
			return nil, err
		}
		if tag == tagNumber {
			return json.Number(s), nil
		}
		return string(s), nil
	case tagObject:
		body, err := span(b, pos)
		if err != nil {
			return nil, err
		}
		return d.object(body, nil)
	case tagArray:
		body, err := span(b, pos)
		if err != nil {
			return nil, err
		}
		p := 0
		n, err := uvarint(body, &p)
		if err != nil || n > uint64(len(body)) {
			return nil, errCorrupt
		}
		arr := make([]any, n)
		for i := range arr {
			if arr[i], err = d.value(body, &p); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	return nil, errCorrupt
}

// skip moves past the value at b[*pos] without decoding it.
func skip(b []byte, pos *int) error {
	if *pos >= len(b) {
		return errCorrupt
	}
	tag := b[*pos]
	*pos++
	switch tag {
	case tagNull, tagFalse, tagTrue:
		return nil
	case tagNumber, tagString, tagObject, tagArray:
		_, err := span(b, pos)
		return err
	}
	return errCorrupt
}

// object decodes an object's body. want, if not nil, lists (sorted) the
// only top-level fields to decode: as the encoding's keys are sorted too,
// one walk over both finds them, the others are skipped without a look,
// and the walk stops once the last wanted field is passed.
func (d *decoder) object(body []byte, want []string) (map[string]any, error) {
	p := 0
	n, err := uvarint(body, &p)
	if err != nil || n > uint64(len(body)) {
		return nil, errCorrupt
	}
	size := int(n)
	if want != nil {
		size = min(size, len(want)) + 2 // room for id and created, which a scan adds
	}
	m := make(map[string]any, size)
	w := 0
	for range n {
		k, err := span(body, &p)
		if err != nil {
			return nil, err
		}
		key := ""
		if want != nil {
			for w < len(want) && want[w] < string(k) {
				w++
			}
			if w == len(want) {
				break
			}
			if want[w] != string(k) {
				if err := skip(body, &p); err != nil {
					return nil, err
				}
				continue
			}
			key = want[w]
		} else {
			key = d.key(k)
		}
		v, err := d.value(body, &p)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	return m, nil
}

// decodeObject decodes a stored object, keeping only the top-level fields
// in want (sorted; all if want is nil).
func (d *decoder) decodeObject(b []byte, want []string) (stripeapi.Object, error) {
	if len(b) == 0 || b[0] != tagObject {
		return nil, errCorrupt
	}
	p := 1
	body, err := span(b, &p)
	if err != nil {
		return nil, err
	}
	m, err := d.object(body, want)
	return stripeapi.Object(m), err
}

// sortedFields lists a set of fields in order, for decodeObject; nil for
// a nil set (all fields).
func sortedFields(set map[string]bool) []string {
	if set == nil {
		return nil
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// wantOf turns the JSON paths a query reads into the top-level fields to
// decode: "address.country" needs all of "address". nil paths mean all.
func wantOf(paths []string) map[string]bool {
	if paths == nil {
		return nil
	}
	want := map[string]bool{"id": true, "created": true}
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if top != "" {
			want[top] = true
		}
	}
	return want
}

// lookup returns the value at a dot-separated path of obj.
func lookup(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			if o, isObj := cur.(stripeapi.Object); isObj {
				m = o
			} else {
				return nil, false
			}
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// indexValue is the form of a value in an equality index and in
// Query.Equal: the text a Stripe list parameter would carry (strings as
// they are, numbers as written, booleans "true"/"false", an expanded
// object by its id), lower-cased, because SQL compares strings without
// case and an index may only ever return more than the engine keeps.
func indexValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return strings.ToLower(v), true
	case json.Number:
		return string(v), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case map[string]any:
		id, ok := v["id"].(string)
		return strings.ToLower(id), ok
	case stripeapi.Object:
		id, ok := v["id"].(string)
		return strings.ToLower(id), ok
	}
	return "", false
}
