package pushdown

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"

	"github.com/stripesql/stripesql/catalog"
)

// A list that requires its parent's id as a query parameter
// (/v1/subscription_items?subscription=…) is planned like a nested table:
// the parent key in WHERE becomes the parameter, and without it the plan
// fans out over the parent table, each parent's id filling the parameter.
func TestQueryParameterParent(t *testing.T) {
	cat := catalog.All()
	items, ok := cat.Lookup("SubscriptionItems")
	if !ok || items.Parent == nil || items.Parent.Param != "subscription" || items.Parent.InPath() {
		t.Fatalf("SubscriptionItems' parent = %+v, want the subscription query parameter", items.Parent)
	}
	ctx := sql.NewEmptyContext()
	cases := []struct {
		name  string
		where []sql.Expression
		want  string
	}{
		{"parent key", []sql.Expression{eq(field("SubscriptionId"), lit("sub_1"))},
			"GET /v1/subscription_items?subscription=sub_1"},
		{"parent keys", []sql.Expression{in("SubscriptionId", "sub_1", "sub_2")},
			"GET /v1/subscription_items?subscription=sub_1; GET /v1/subscription_items?subscription=sub_2"},
		{"id alone is a retrieve", []sql.Expression{eq(field("Id"), lit("si_1"))},
			"GET /v1/subscription_items/si_1"},
		{"id and parent: still one retrieve", []sql.Expression{eq(field("Id"), lit("si_1")), eq(field("SubscriptionId"), lit("sub_1"))},
			"GET /v1/subscription_items/si_1"},
		{"no parent key: fan-out over subscriptions", nil,
			"GET /v1/subscription_items?subscription={subscription} for each {subscription} in [GET /v1/subscriptions?status=all]"},
	}
	for _, tc := range cases {
		plan := Resolve(Build(ctx, items, tc.where, Options{}), cat, Options{})
		if got := plan.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	// A fan-out step fills the parameter, and only it.
	plan := Resolve(Build(ctx, items, nil, Options{}), cat, Options{})
	step := plan.Calls[0].ForParent(plan.Placeholder, "sub_9")
	if got := step.String(); got != "GET /v1/subscription_items?subscription=sub_9" || step.ParentID != "sub_9" {
		t.Errorf("fan-out step = %s (parent %q)", got, step.ParentID)
	}
	// The retrieve of an id with a parent key is not exact: the item may
	// belong to another subscription, which the engine's re-check drops.
	p := Build(ctx, items, []sql.Expression{eq(field("Id"), lit("si_1")), eq(field("SubscriptionId"), lit("sub_1"))}, Options{})
	if p.Exact {
		t.Error("retrieve by id with a parent key is marked exact")
	}
}

// A singleton (/v1/balance) is one GET of its path, whatever the WHERE.
func TestSingletonIsOneGet(t *testing.T) {
	cat := catalog.All()
	ctx := sql.NewEmptyContext()
	for _, name := range []string{"Balance", "Account"} {
		tbl, ok := cat.Lookup(name)
		if !ok || !tbl.Singleton {
			t.Fatalf("%s is not a singleton table", name)
		}
		for _, where := range [][]sql.Expression{nil, {eq(field("Id"), lit("x"))}, {expression.NewOr(eq(field("Id"), lit("a")), eq(field("Id"), lit("b")))}} {
			plan := Build(ctx, tbl, where, Options{Search: true})
			if got, want := plan.String(), "GET "+tbl.ListPath; got != want || plan.Calls[0].Kind != Retrieve {
				t.Errorf("%s %v: plan %s, want %s (one retrieve)", name, where, got, want)
			}
		}
	}
}
