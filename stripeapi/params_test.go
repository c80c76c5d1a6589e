package stripeapi

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParamsEncode(t *testing.T) {
	tests := []struct {
		name  string
		build func(p *Params)
		want  string
	}{
		{"metadata", func(p *Params) { p.AddNested("metadata", map[string]any{"order_id": "6735", "a": "b"}) },
			"metadata%5Ba%5D=b&metadata%5Border_id%5D=6735"},
		{"address", func(p *Params) { p.AddNested("address", map[string]string{"country": "US", "city": "New York"}) },
			"address%5Bcity%5D=New+York&address%5Bcountry%5D=US"},
		{"expand", func(p *Params) { p.Add("expand[]", "a"); p.Add("expand[]", "b") },
			"expand%5B%5D=a&expand%5B%5D=b"},
		{"items", func(p *Params) {
			p.AddNested("items", []any{map[string]any{"price": "x", "quantity": 2}, map[string]any{"price": "y"}})
		}, "items%5B0%5D%5Bprice%5D=x&items%5B0%5D%5Bquantity%5D=2&items%5B1%5D%5Bprice%5D=y"},
		{"created range", func(p *Params) {
			p.AddNested("created", map[string]any{"gte": int64(1704067200), "lt": json.Number("1704153600")})
		},
			"created%5Bgte%5D=1704067200&created%5Blt%5D=1704153600"},
		{"unset", func(p *Params) { p.Add("description", ""); p.AddNested("metadata", map[string]any{"k": nil}) },
			"description=&metadata%5Bk%5D="},
		{"unset all metadata", func(p *Params) { p.AddNested("metadata", map[string]any{}) }, "metadata="},
		{"insertion order kept", func(p *Params) { p.Add("z", "1"); p.Add("a", "2"); p.Add("m", "3") }, "z=1&a=2&m=3"},
		{"escaping", func(p *Params) { p.Add("email", "a+b@c.d"); p.Add("q", `name:"x & y"`) },
			"email=a%2Bb%40c.d&q=name%3A%22x+%26+y%22"},
		{"empty", func(p *Params) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Params
			tt.build(&p)
			if got := p.Encode(); got != tt.want {
				t.Errorf("Encode() = %q\nwant        %q", got, tt.want)
			}
		})
	}
}

func TestAddNestedScalars(t *testing.T) {
	s := "ptr"
	var nilPtr *string
	tests := []struct {
		v    any
		want string
	}{
		{true, "true"},
		{false, "false"},
		{42, "42"},
		{int64(-7), "-7"},
		{uint8(200), "200"},
		{1.5, "1.5"},
		{1e21, "1000000000000000000000"},
		{float32(0.25), "0.25"},
		{json.Number("12345678901234567890"), "12345678901234567890"},
		{"text", "text"},
		{nil, ""},
		{&s, "ptr"},
		{nilPtr, ""},
		{[]byte("raw"), "raw"},
		{time.Unix(1704067200, 999).UTC(), "1704067200"},
	}
	for _, tt := range tests {
		var p Params
		p.AddNested("k", tt.v)
		if len(p) != 1 || p[0].Key != "k" || p[0].Value != tt.want {
			t.Errorf("AddNested(k, %#v) = %v, want [{k %s}]", tt.v, p, tt.want)
		}
	}
}

func TestAddNestedDeep(t *testing.T) {
	var p Params
	p.AddNested("payment_method_options", map[string]any{
		"card": map[string]any{"installments": map[string]any{"enabled": true}},
	})
	p.AddNested("default_tax_rates", []string{}) // empty list unsets
	p.AddNested("ids", []string{"a", "b"})
	want := Params{
		{"payment_method_options[card][installments][enabled]", "true"},
		{"default_tax_rates", ""},
		{"ids[0]", "a"},
		{"ids[1]", "b"},
	}
	if len(p) != len(want) {
		t.Fatalf("got %v, want %v", p, want)
	}
	for i := range want {
		if p[i] != want[i] {
			t.Errorf("param %d = %v, want %v", i, p[i], want[i])
		}
	}
}

func TestParamsGetSet(t *testing.T) {
	p := Params{{"a", "1"}, {"limit", "5"}, {"b", "2"}, {"limit", "6"}}
	if v, ok := p.Get("limit"); !ok || v != "5" {
		t.Errorf("Get(limit) = %q, %v; want 5, true", v, ok)
	}
	if _, ok := p.Get("missing"); ok {
		t.Error("Get(missing) found a value")
	}
	p.Set("limit", "100")
	if got, want := p.Encode(), "a=1&limit=100&b=2"; got != want {
		t.Errorf("after Set(limit) Encode() = %q, want %q", got, want)
	}
	p.Set("starting_after", "cus_1")
	if got, want := p.Encode(), "a=1&limit=100&b=2&starting_after=cus_1"; got != want {
		t.Errorf("after Set(starting_after) Encode() = %q, want %q", got, want)
	}
}
