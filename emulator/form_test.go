package emulator

import (
	"fmt"
	"net/url"
	"testing"
)

func TestParseForm(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"metadata[k]=v&address[country]=US", "map[address:map[country:US] metadata:map[k:v]]"},
		{"items[0][price]=p1&items[1][price]=p2&items[1][quantity]=2", "map[items:[map[price:p1] map[price:p2 quantity:2]]]"},
		{"items[5][price]=b&items[2][price]=a", "map[items:[map[price:a] map[price:b]]]"},
		{"expand[]=a&expand[]=b", "map[expand:[a b]]"},
		{"expand[0]=a&expand[1]=b", "map[expand:[a b]]"},
		{"metadata[0]=zero", "map[metadata:map[0:zero]]"},
		{"description=", "map[description:]"},
		{"a[b]c=1", "map[a[b]c:1]"},
		{"created[gte]=1&created[lt]=2", "map[created:map[gte:1 lt:2]]"},
	}
	for _, tc := range cases {
		v, err := url.ParseQuery(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(parseForm(v)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestValidateCoerces(t *testing.T) {
	op := spec().Operations["POST /v1/prices"]
	p := params(parseForm(url.Values{"unit_amount": {"1200"}, "currency": {"usd"}, "active": {"false"},
		"recurring[interval_count]": {"3"}, "nickname": {""}, "metadata[k]": {""}}))
	if err := p.validate(op, true); err != nil {
		t.Fatal(err)
	}
	want := "map[active:false currency:usd metadata:map[k:<nil>] nickname:<nil> recurring:map[interval_count:3] unit_amount:1200]"
	if got := fmt.Sprint(map[string]any(p)); got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
	if _, ok := p["unit_amount"].(int64); !ok {
		t.Errorf("unit_amount is %T", p["unit_amount"])
	}
	bad := params(parseForm(url.Values{"currency": {"usd"}, "recurring[interval_count]": {"x"}}))
	if err := bad.validate(op, true); err == nil || err.param != "recurring[interval_count]" {
		t.Errorf("error %v", err)
	}
	bool := params(parseForm(url.Values{"currency": {"usd"}, "active": {"yes"}}))
	if err := bool.validate(op, true); err == nil || err.param != "active" {
		t.Errorf("error %v", err)
	}
}
