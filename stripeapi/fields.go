package stripeapi

import (
	"errors"
	"sort"
	"strings"
)

// Fields is the set of object paths a reader of a list needs, for a
// projected decode (WithFields): every other value of each listed object
// is skipped, checked for well-formedness but not built. A nil *Fields
// means every path.
type Fields struct {
	root fieldNode
	key  string
}

// fieldNode is one step of a path. A leaf keeps its whole value; an inner
// node keeps, of an object value, only the keys it names (a value that is
// not an object is kept whole: a path cannot step into it).
type fieldNode struct {
	children map[string]*fieldNode // nil for a leaf
}

func (n *fieldNode) leaf() bool { return n.children == nil }

// NewFields returns the set of the dot-separated paths (a path "a.b" keeps
// b of the object a; "a" keeps all of a).
func NewFields(paths ...string) *Fields {
	f := &Fields{root: fieldNode{children: map[string]*fieldNode{}}}
	for _, p := range paths {
		if p == "" {
			continue
		}
		n := &f.root
		steps := strings.Split(p, ".")
		for i, step := range steps {
			child, ok := n.children[step]
			if !ok {
				child = &fieldNode{}
				if i < len(steps)-1 {
					child.children = map[string]*fieldNode{}
				}
				n.children[step] = child
			} else if i == len(steps)-1 {
				child.children = nil // the whole value, whatever was asked below it
			}
			if child.leaf() {
				break // kept whole already
			}
			n = child
		}
	}
	var leaves []string
	f.root.paths("", &leaves)
	sort.Strings(leaves)
	f.key = strings.Join(leaves, ",")
	return f
}

func (n *fieldNode) paths(prefix string, out *[]string) {
	for k, c := range n.children {
		if c.leaf() {
			*out = append(*out, prefix+k)
		} else {
			c.paths(prefix+k+".", out)
		}
	}
}

// String names the set canonically (its paths sorted, comma-separated):
// two sets with the same String keep the same values, so it can key a
// cache of projected objects.
func (f *Fields) String() string {
	if f == nil {
		return "*"
	}
	return f.key
}

// WithFields makes a list or search call decode of each object of its
// page only the paths of f (the page's envelope is decoded whole). The
// objects it returns hold only those paths: the caller must not hand them
// to a reader that needs others.
func WithFields(f *Fields) RequestOption {
	return func(o *requestOptions) { o.fields = f }
}

// decodeList decodes a list or search response, keeping of each object of
// its "data" array only the paths of f; every other key of the envelope is
// decoded whole. Malformed JSON is refused as by decodeObject, skipped
// values included.
func decodeList(body []byte, f *Fields) (Object, error) {
	d := decoder{data: body, keys: make(map[string]string, 64)}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if err := d.skip(0); err != nil {
			return nil, err
		}
		return nil, errors.New("response is not a JSON object")
	}
	m, err := d.envelope(f)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the top-level object")
	}
	return m, nil
}

// envelope decodes the top-level object at d.pos (a '{'), projecting the
// objects of its "data" array. Depths are those of decodeObject's, so
// nesting is bounded alike.
func (d *decoder) envelope(f *Fields) (map[string]any, error) {
	m := make(map[string]any, 4)
	d.pos++ // '{'
	if d.closes('}') {
		return m, nil
	}
	for {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		var v any
		if key == "data" && d.pos < len(d.data) && d.data[d.pos] == '[' {
			v, err = d.projectedArray(1, &f.root)
		} else {
			v, err = d.value(0)
		}
		if err != nil {
			return nil, err
		}
		m[key] = v
		if done, err := d.next('}', "an object"); done || err != nil {
			return m, err
		}
	}
}

// projectedArray decodes the array at d.pos (a '['), projecting each
// object in it to n; other elements are decoded whole.
func (d *decoder) projectedArray(depth int, n *fieldNode) ([]any, error) {
	return d.arrayOf(depth, func(depth int) (any, error) {
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == '{' {
			return d.projectedObject(depth+1, n)
		}
		return d.value(depth)
	})
}

// projectedObject decodes the object at d.pos (a '{'), keeping only the
// keys n names and skipping the values of the others.
func (d *decoder) projectedObject(depth int, n *fieldNode) (map[string]any, error) {
	if depth > maxDepth {
		return nil, d.errorf("nesting deeper than %d", maxDepth)
	}
	m := make(map[string]any, len(n.children))
	d.pos++ // '{'
	if d.closes('}') {
		return m, nil
	}
	for {
		raw, plain, err := d.memberKey()
		if err != nil {
			return nil, err
		}
		var key string
		var child *fieldNode
		if plain {
			child = n.children[string(raw)] // no allocation for the lookup
			if child != nil {
				key = d.intern(raw)
			}
		} else {
			key = unquote(raw)
			child = n.children[key]
		}
		d.skipSpace()
		switch {
		case child == nil:
			if err := d.skip(depth); err != nil {
				return nil, err
			}
		case !child.leaf() && d.pos < len(d.data) && d.data[d.pos] == '{':
			v, err := d.projectedObject(depth+1, child)
			if err != nil {
				return nil, err
			}
			m[key] = v
		default:
			v, err := d.value(depth)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		if done, err := d.next('}', "an object"); done || err != nil {
			return m, err
		}
	}
}

// intern returns the key raw (plain) as a string shared by the body.
func (d *decoder) intern(raw []byte) string {
	if k, ok := d.keys[string(raw)]; ok {
		return k
	}
	k := string(raw)
	d.keys[k] = k
	return k
}

// skip moves past the value at d.pos (after any whitespace), checking it
// as value would but building nothing: no allocation, no unquoting.
func (d *decoder) skip(depth int) error {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.skipContainer(depth+1, '}', true)
	case c == '[':
		return d.skipContainer(depth+1, ']', false)
	case c == '"':
		_, _, err := d.scanString()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return d.scanNumber()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		return d.errorf("unexpected character %q", c)
	}
}

// skipContainer skips the object (keyed) or array at d.pos.
func (d *decoder) skipContainer(depth int, closing byte, keyed bool) error {
	if depth > maxDepth {
		return d.errorf("nesting deeper than %d", maxDepth)
	}
	what := "an array"
	if keyed {
		what = "an object"
	}
	d.pos++
	if d.closes(closing) {
		return nil
	}
	for {
		if keyed {
			if _, _, err := d.memberKey(); err != nil {
				return err
			}
		}
		if err := d.skip(depth); err != nil {
			return err
		}
		if done, err := d.next(closing, what); done || err != nil {
			return err
		}
	}
}
