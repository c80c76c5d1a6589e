package emulator

import (
	"bytes"
	"encoding/json"
	"testing"
)

// stdEncode is encode as encoding/json writes it, the reference.
func stdEncode(t *testing.T, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEncodeMatchesEncodingJSON holds encode to encoding/json's output on
// every object of the demo account, a seeded page, and awkward values.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	e := NewDemo()
	if _, err := e.Seed(Seeding{Customers: 50, Charges: 50, Invoices: 50}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, res := range e.reg.list {
		e.Each(res.object, func(o map[string]any) {
			n++
			if got, want := encode(o), stdEncode(t, o); !bytes.Equal(got, want) {
				t.Fatalf("%s %s:\ngot  %s\nwant %s", res.object, o["id"], got, want)
			}
		})
	}
	if n < 800 {
		t.Fatalf("only %d objects compared", n)
	}
	odd := map[string]any{
		"ctl": "a\x00b\x1f\t\n\r\b\f\"\\</>&'", "uni": "é漢\u2028\u2029\U0001F600", "bad": "x\xffy\xc3",
		"floats": []any{1.5, 1e21, 0.000001, float64(3), -0.0}, "typed": []string{"a", "b"},
		"nested": map[string]any{"empty": map[string]any{}, "list": []any{}, "deep": []any{map[string]any{"k": nil, "t": true, "i": int64(-7), "n": 3}}},
		"sm":     map[string]string{"z": "1", "a": "2"},
		"":       "empty key",
	}
	if got, want := encode(odd), stdEncode(t, odd); !bytes.Equal(got, want) {
		t.Errorf("odd values:\ngot  %s\nwant %s", got, want)
	}
}
