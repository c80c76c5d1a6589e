package stripeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// stdDecode is what decodeObject replaces: encoding/json with UseNumber.
func stdDecode(body []byte) (Object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj Object
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if len(bytes.Trim(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, fmt.Errorf("data after the top-level value")
	}
	if obj == nil {
		return nil, fmt.Errorf("not an object")
	}
	return obj, nil
}

var decodeCases = []string{
	`{}`,
	` {"a" : 1 , "b":[ ] ,"c":{ }} `,
	`{"id":"cus_1","object":"customer","balance":-1250,"amount":1.5e3,"x":0,"y":-0.25E-2,"z":1E+2}`,
	`{"deleted":true,"livemode":false,"email":null,"metadata":{"tier":"gold","n":"7"}}`,
	`{"data":[{"id":"a","n":1},{"id":"b","n":2,"nested":{"deep":[1,[2,[3,{"k":"v"}]]]}}],"has_more":true}`,
	`{"esc":"q\"b\\s\/n\nt\tr\rb\bf\f","u":"\u00e9\u4e2d\ud83d\ude00","lone":"\ud800x","lone2":"\udc00","pair_bad":"\ud800\u0041"}`,
	"{\"utf8\":\"héllo 中 😀\",\"bad\":\"a\xffb\xc3\"}",
	"{\"badkey\xff\":1,\"k\\u0041\":2}",
	`{"dup":1,"dup":2}`,
	`{"big":123456789012345678901234567890,"neg0":-0}`,
	// Errors: both decoders must refuse these.
	`{"a":}`, `{"a" 1}`, `{"a":1,}`, `{"a":[1,]}`, `{a:1}`, `{"a":01}`, `{"a":1.}`, `{"a":1e}`, `{"a":-}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":"x`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":1`, `{"a":1}}`,
	`[1,2]`, `null`, `"s"`, ``, `   `, `{"a":1} x`,
}

// TestDecodeMatchesEncodingJSON checks decodeObject against encoding/json
// on valid bodies (equal values, to the Go types) and on invalid ones
// (both refuse).
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		want, wantErr := stdDecode([]byte(c))
		got, err := decodeObject([]byte(c))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%q: error %v, encoding/json %v", c, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got  %#v\n want %#v", c, got, want)
		}
	}
}

// TestDecodeErrorsSayWhere: an object or array cut short, or with no ','
// between members, is refused naming which of the two and what was wanted;
// a number without digits where JSON wants them, at the offset it lacks them.
func TestDecodeErrorsSayWhere(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":1`:        "offset 6: unexpected end of input in an object",
		`{"a":1 "b":2}`: "offset 7: want ',' or '}' in an object",
		`{"a":[1`:       "offset 7: unexpected end of input in an array",
		`{"a":[1 2]}`:   "offset 8: want ',' or ']' in an array",
		`{"a":[1}`:      "offset 7: want ',' or ']' in an array",
		`{"a":1.}`:      "offset 7: invalid number",
		`{"a":1.5e+}`:   "offset 10: invalid number",
		`{"a":-x}`:      "offset 6: invalid number",
	} {
		if _, err := decodeObject([]byte(body)); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to end %q", body, err, want)
		}
	}
}

func TestDecodeRefusesDeepNesting(t *testing.T) {
	body := `{"a":` + strings.Repeat("[", maxDepth+5) + strings.Repeat("]", maxDepth+5) + `}`
	if _, err := decodeObject([]byte(body)); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("nesting %d deep: err = %v, want a nesting error", maxDepth+5, err)
	}
}

// TestDecodeSharesKeys checks the point of the decoder: the same key in
// every object of a page is one string, not one per object.
func TestDecodeSharesKeys(t *testing.T) {
	obj, err := decodeObject([]byte(`{"data":[{"email":"a"},{"email":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	data := obj["data"].([]any)
	var keys []string
	for _, o := range data {
		for k := range o.(map[string]any) {
			keys = append(keys, k)
		}
	}
	if len(keys) != 2 || keys[0] != "email" || keys[1] != "email" || !sameString(keys[0], keys[1]) {
		t.Errorf("keys %q are not one shared string", keys)
	}
}

// sameString reports whether a and b share their bytes.
func sameString(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantErr := stdDecode(body)
		got, err := decodeObject(body)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", body, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got  %#v\n want %#v", body, got, want)
		}
	})
}

// pageBody is a list page of n customer-like objects.
func pageBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"list","url":"/v1/customers","has_more":true,"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"cus_%08d","object":"customer","address":{"city":"Berlin","country":"DE","line1":"Street %d","line2":null,"postal_code":"10115","state":null},"balance":%d,"created":1735689600,"currency":"usd","default_source":null,"delinquent":false,"description":"Customer number %d","email":"c%d@example.com","invoice_prefix":"ABC%04d","invoice_settings":{"custom_fields":null,"default_payment_method":null,"footer":null,"rendering_options":null},"livemode":false,"metadata":{"n":"%d"},"name":"Name %d","phone":null,"preferred_locales":[],"shipping":null,"tax_exempt":"none","test_clock":null}`, i, i, i*100, i, i, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestDecodePageMatchesEncodingJSON(t *testing.T) {
	body := pageBody(100)
	want, err := stdDecode(body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeObject(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("a page of 100 customers decodes differently from encoding/json")
	}
}

// BenchmarkDecodePage compares decoding a page of 100 customers with
// decodeObject, encoding/json with UseNumber (what it replaced) and
// encoding/json into map[string]any (what a bare Go client does).
func BenchmarkDecodePage(b *testing.B) {
	body := pageBody(100)
	b.Run("decodeObject", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeObject(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-UseNumber", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdDecode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-bare", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodePageSpeedup decodes the page of BenchmarkDecodePage with
// decodeObject and with encoding/json (UseNumber, what it replaced) in
// turn, in every iteration, and reports how many times faster decodeObject
// is (the README's figure) as "x-encoding/json": the median over the
// iterations of encoding/json's time over decodeObject's. Timing the two
// side by side, rather than in separate benchmarks, and taking the median
// keep a busy machine's slow spells, which land on one decode of a pair,
// from favouring either; the mean times are reported too.
//
//	CGO_ENABLED=0 go test -tags gms_pure_go -run '^$' -bench DecodePageSpeedup ./stripeapi/
func BenchmarkDecodePageSpeedup(b *testing.B) {
	body := pageBody(100)
	// timed decodes body with decode and returns the time it took.
	timed := func(decode func([]byte) (Object, error)) time.Duration {
		start := time.Now()
		if _, err := decode(body); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var ours, std time.Duration
	var ratios []float64
	first := true
	for b.Loop() {
		// Each goes first every other time: the second finds the body in
		// cache, and may pay for a collection the first's garbage started.
		var o, s time.Duration
		if first {
			o, s = timed(decodeObject), timed(stdDecode)
		} else {
			s, o = timed(stdDecode), timed(decodeObject)
		}
		first = !first
		ours += o
		std += s
		ratios = append(ratios, s.Seconds()/o.Seconds())
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "decodeObject-ns/op")
	b.ReportMetric(float64(std.Nanoseconds())/float64(b.N), "encoding/json-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "x-encoding/json")
}
