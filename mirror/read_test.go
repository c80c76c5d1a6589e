package mirror

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stripesql/stripesql/stripeapi"
)

func i64(v int64) *int64 { return &v }

func queryFixture(t *testing.T) *Mirror {
	t.Helper()
	e := newEnv(t, "Customers")
	m := e.openStore()
	objs := []map[string]any{
		cus("cus_1", 100, "email", "Ann@x.io", "name", "Ann", "address", map[string]any{"country": "FR", "city": "Paris"}, "balance", 5),
		cus("cus_2", 200, "email", "bob@x.io", "name", "Bob", "address", map[string]any{"country": "DE"}, "balance", 0),
		cus("cus_3", 300, "email", "ann@x.io", "name", "Ann", "address", nil, "balance", -7),
		cus("cus_4", 300, "email", nil, "name", "Dee", "balance", 12),
		cus("cus_5", 400, "email", "eve@x.io", "name", "Eve"),
	}
	for _, o := range objs {
		if err := m.Applied(t.Context(), "Customers", jsonObject(o), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Applied(t.Context(), "Customers", stripeapi.Object{"id": "cus_5"}, true); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestObjectsQueries(t *testing.T) {
	m := queryFixture(t)
	cases := []struct {
		name string
		q    Query
		want []string
	}{
		{"all, newest first", Query{}, []string{"cus_3", "cus_4", "cus_2", "cus_1"}},
		{"ids", Query{IDs: []string{"cus_2", "cus_1", "cus_2", "cus_9", "cus_5"}}, []string{"cus_1", "cus_2"}},
		{"empty ids", Query{IDs: []string{}}, nil},
		{"created >=", Query{CreatedGTE: i64(200)}, []string{"cus_3", "cus_4", "cus_2"}},
		{"created <=", Query{CreatedLTE: i64(200)}, []string{"cus_2", "cus_1"}},
		{"created range", Query{CreatedGTE: i64(150), CreatedLTE: i64(300)}, []string{"cus_3", "cus_4", "cus_2"}},
		{"created point", Query{CreatedGTE: i64(300), CreatedLTE: i64(300)}, []string{"cus_3", "cus_4"}},
		{"empty range", Query{CreatedGTE: i64(301), CreatedLTE: i64(399)}, nil},
		{"equal indexed, any case", Query{Equal: map[string][]string{"email": {"ANN@x.io"}}}, []string{"cus_1", "cus_3"}},
		{"equal indexed, two values", Query{Equal: map[string][]string{"email": {"bob@x.io", "ann@x.io", "nobody@x.io"}}}, []string{"cus_1", "cus_2", "cus_3"}},
		{"equal not indexed", Query{Equal: map[string][]string{"name": {"ann"}}}, []string{"cus_3", "cus_1"}},
		{"equal nested path", Query{Equal: map[string][]string{"address.country": {"fr", "de"}}}, []string{"cus_2", "cus_1"}},
		{"equal number", Query{Equal: map[string][]string{"balance": {"-7", "0"}}}, []string{"cus_3", "cus_2"}},
		{"equal + created", Query{Equal: map[string][]string{"email": {"ann@x.io"}}, CreatedGTE: i64(200)}, []string{"cus_3"}},
		{"ids + equal + created", Query{IDs: []string{"cus_1", "cus_3", "cus_2"}, Equal: map[string][]string{"name": {"Ann"}}, CreatedLTE: i64(200)}, []string{"cus_1"}},
		{"equal on deleted", Query{Equal: map[string][]string{"email": {"eve@x.io"}}}, nil},
	}
	for _, c := range cases {
		got := ids(all(t, m, "Customers", c.q))
		want := c.want
		if c.q.Equal != nil || c.q.IDs != nil {
			got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}
}

func TestObjectsPathsProjection(t *testing.T) {
	m := queryFixture(t)
	got := all(t, m, "Customers", Query{IDs: []string{"cus_1"}, Paths: []string{"name", "address.country"}})
	if len(got) != 1 {
		t.Fatalf("got %d objects, want 1", len(got))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got[0] {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"address", "created", "id", "name"}) {
		t.Errorf("fields = %v, want [address created id name]", keys)
	}
	if a, _ := got[0]["address"].(map[string]any); a["country"] != "FR" {
		t.Errorf("address = %v, want country FR", got[0]["address"])
	}
	if fmt.Sprint(got[0]["created"]) != "100" {
		t.Errorf("created = %v, want 100", got[0]["created"])
	}
	// Fields an Equal checks are decoded even if not in Paths.
	got = all(t, m, "Customers", Query{Paths: []string{"created"}, Equal: map[string][]string{"name": {"Bob"}}})
	if len(got) != 1 || got[0].ID() != "cus_2" {
		t.Errorf("Equal on a path outside Paths = %v, want [cus_2]", ids(got))
	}
	// nil Paths: the whole object, numbers exact.
	got = all(t, m, "Customers", Query{IDs: []string{"cus_3"}})
	if len(got) != 1 || fmt.Sprint(got[0]["balance"]) != "-7" || got[0]["email"] != "ann@x.io" || got[0]["object"] != "customer" {
		t.Errorf("whole object = %v", got)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	in := jsonObject(map[string]any{
		"id": "x", "n": 12345678901234567, "f": 1.5, "s": "é\x00", "b": true, "z": false, "nil": nil,
		"arr": []any{1, "a", map[string]any{"k": []any{}}}, "obj": map[string]any{},
	})
	enc, err := encodeObject(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := newDecoder().decodeObject(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out) != fmt.Sprint(in) {
		t.Errorf("round trip\n got %v\nwant %v", out, in)
	}
	if _, err := newDecoder().decodeObject(enc[:len(enc)-3], nil); err == nil {
		t.Error("decoding a truncated object: no error")
	}
}
