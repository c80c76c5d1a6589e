package stripeapi

import (
	"reflect"
	"strings"
	"testing"
)

// restrictList is what decodeList must return: the full decode with each
// object of "data" restricted to f's paths.
func restrictList(obj Object, f *Fields) Object {
	out := Object{}
	for k, v := range obj {
		out[k] = v
	}
	if data, ok := obj["data"].([]any); ok {
		r := make([]any, len(data))
		for i, e := range data {
			if m, ok := e.(map[string]any); ok {
				r[i] = restrictObject(m, &f.root)
			} else {
				r[i] = e
			}
		}
		out["data"] = r
	}
	return out
}

func restrictObject(m map[string]any, n *fieldNode) map[string]any {
	out := map[string]any{}
	for k, c := range n.children {
		v, ok := m[k]
		if !ok {
			continue
		}
		if sub, isMap := v.(map[string]any); isMap && !c.leaf() {
			v = restrictObject(sub, c)
		}
		out[k] = v
	}
	return out
}

var fieldsCases = [][]string{
	nil,
	{"id"},
	{"id", "object", "created", "deleted"},
	{"id", "address.city", "metadata"},
	{"address.city", "address"}, // the whole address wins
	{"address", "address.city"},
	{"nested.deep", "n", "k\u0041"},
	{"data", "has_more", "a", "esc", "u", "lone", "dup", "big"},
	{"\ufffd", "badkey\ufffd", "kA", "utf8", "bad"},
}

// listCases wraps decodeCases in list envelopes, so that their values,
// valid and not, land in the objects of a page as well as at the top.
func listCases() []string {
	out := append([]string{}, decodeCases...)
	for _, c := range decodeCases {
		out = append(out,
			`{"object":"list","data":[`+c+`],"has_more":false}`,
			`{"data":[{"id":"x"},`+c+`,1,"s",null],"url":"/v1/x"}`,
			`{"data":[{"id":"y","address":`+c+`,"skipped":`+c+`}]}`,
		)
	}
	return append(out, string(pageBody(3)))
}

func checkProjected(t *testing.T, body []byte, f *Fields) {
	t.Helper()
	full, fullErr := decodeObject(body)
	got, err := decodeList(body, f)
	if (err != nil) != (fullErr != nil) {
		t.Fatalf("%q fields %s: error %v, full decode %v", body, f, err, fullErr)
	}
	if err != nil {
		return
	}
	if want := restrictList(full, f); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q fields %s:\n got  %#v\n want %#v", body, f, got, want)
	}
}

// TestDecodeListIsFullRestricted checks the projected decode against the
// full one restricted to the paths, on valid bodies and on malformed ones
// (where the malformed part is skipped, it must still be refused).
func TestDecodeListIsFullRestricted(t *testing.T) {
	for _, paths := range fieldsCases {
		f := NewFields(paths...)
		for _, c := range listCases() {
			checkProjected(t, []byte(c), f)
		}
	}
}

func TestDecodeListRefusesMalformedSkippedValues(t *testing.T) {
	f := NewFields("id")
	for _, bad := range []string{`{"a":}`, `[1,]`, `"\x"`, `01`, `1.`, `tru`, `{"a" 1}`, `{"a":1,}`, "\"\x01\"", `"x`, `{"a":[1}`} {
		body := `{"data":[{"id":"ok","skipped":` + bad + `}]}`
		if _, err := decodeList([]byte(body), f); err == nil {
			t.Errorf("%s: a malformed skipped value was accepted", body)
		}
	}
	deep := `{"data":[{"id":"a","x":` + strings.Repeat("[", maxDepth+5) + strings.Repeat("]", maxDepth+5) + `}]}`
	if _, err := decodeList([]byte(deep), f); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("skipped nesting %d deep: err = %v, want a nesting error", maxDepth+5, err)
	}
}

func TestFieldsString(t *testing.T) {
	for _, c := range []struct {
		paths []string
		want  string
	}{
		{[]string{"id", "address.city", "created"}, "address.city,created,id"},
		{[]string{"address.city", "address", "address.line1"}, "address"},
		{[]string{"created", "id", "id", ""}, "created,id"},
	} {
		if got := NewFields(c.paths...).String(); got != c.want {
			t.Errorf("NewFields(%q).String() = %q, want %q", c.paths, got, c.want)
		}
	}
	var none *Fields
	if none.String() != "*" {
		t.Errorf("nil Fields is %q, want *", none.String())
	}
}

// TestDecodeListSkipsWithoutAllocating checks the point of the projected
// decode: a page of 100 customers projected to their ids allocates per
// object its map and its id (a few allocations), not its other values.
func TestDecodeListSkipsWithoutAllocating(t *testing.T) {
	body := pageBody(100)
	f := NewFields("id")
	full := testing.AllocsPerRun(20, func() { _, _ = decodeObject(body) })
	projected := testing.AllocsPerRun(20, func() { _, _ = decodeList(body, f) })
	if projected > 5*100+20 {
		t.Errorf("projected to id: %.0f allocations for 100 objects, want at most 5 an object (the map, its id, boxing) (full decode %.0f)", projected, full)
	}
	if projected*4 > full {
		t.Errorf("projected to id: %.0f allocations, full decode %.0f: want under a quarter", projected, full)
	}
}

func FuzzDecodeList(f *testing.F) {
	for _, c := range listCases() {
		f.Add([]byte(c), "id,address.city")
	}
	f.Fuzz(func(t *testing.T, body []byte, paths string) {
		checkProjected(t, body, NewFields(strings.Split(paths, ",")...))
	})
}

// BenchmarkDecodeListProjected decodes BenchmarkDecodePage's page of 100
// customers whole and projected to what two queries read (a COUNT(*): the
// scan's id, object, created and deleted; a SUM of balance grouped by
// email: those and two columns), reporting CPU and allocations per row.
//
//	CGO_ENABLED=0 go test -tags gms_pure_go -run '^$' -bench DecodeListProjected ./stripeapi/
func BenchmarkDecodeListProjected(b *testing.B) {
	body := pageBody(100)
	scan := []string{"id", "object", "created", "deleted"}
	for _, c := range []struct {
		name   string
		fields *Fields
	}{
		{"full", nil},
		{"count", NewFields(scan...)},
		{"two-columns", NewFields(append(scan, "balance", "email")...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			decode := func() (Object, error) {
				if c.fields == nil {
					return decodeObject(body)
				}
				return decodeList(body, c.fields)
			}
			allocs := testing.AllocsPerRun(5, func() { _, _ = decode() })
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/row")
			b.ReportMetric(allocs/100, "allocs/row")
		})
	}
}
