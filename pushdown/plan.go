// Package pushdown turns the SQL engine's filter expressions into the Stripe
// requests that fetch the rows they can be true for.
//
// A Plan never narrows the answer: every call it makes returns a superset of
// the rows the WHERE clause selects, and the engine re-checks every row
// (the tables report PreciseMatch false). Pushdown changes what a query
// costs, never what it returns. The package is pure: it builds plans and
// prints them, and sends nothing.
package pushdown

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/stripesql/stripesql/catalog"
)

// Kind is the kind of a Stripe request.
type Kind int

const (
	// Retrieve is GET of one object by id.
	Retrieve Kind = iota
	// List is a paginated list call.
	List
	// Search is a paginated Search API query: eventually consistent.
	Search
)

// Call is one Stripe request of a plan (a list call is one logical call
// that may take several pages).
type Call struct {
	Kind Kind
	// Path is the concrete path, with ids path-escaped. For a fan-out over
	// a parent table it still holds the parent's placeholder.
	Path   string
	Params []catalog.Param
	// ParentID is the parent object's id for a call on a nested resource,
	// which every object it returns belongs to.
	ParentID string
}

// String shows the call as an HTTP request line, brackets unescaped so
// that EXPLAIN reads like Stripe's documentation.
func (c Call) String() string {
	if c.Kind == Search {
		// The query is shown as Stripe's documentation writes it.
		q, _ := c.query()
		return "GET " + c.Path + "?query=" + q
	}
	var b strings.Builder
	b.WriteString("GET ")
	b.WriteString(c.Path)
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

func (c Call) query() (string, bool) {
	for _, p := range c.Params {
		if p.Key == "query" {
			return p.Value, true
		}
	}
	return "", false
}

// Plan is the set of Stripe calls whose union holds every row a filter can
// be true for.
type Plan struct {
	Table *catalog.Table
	// Empty reports a filter that is never true (Id = NULL, contradictory
	// bounds): the plan makes no call at all.
	Empty bool
	// Exact reports that the calls return exactly the rows the filter is
	// true for: no residual condition is left for the engine (which still
	// re-checks, harmlessly). Only then may a LIMIT shrink the page size.
	Exact bool
	// Dedupe reports that calls may find the same object (a union over an
	// OR): each object is returned once.
	Dedupe bool
	Calls  []Call
	// Parent, when set, means the table is nested and the filter does not
	// name the parent: every call's Path holds Table.Parent.Placeholder,
	// to be filled with each Id the Parent plan yields.
	Parent *Plan
}

// String is the plan as EXPLAIN shows it: one request per line.
func (p Plan) String() string {
	if p.Empty {
		return "no Stripe call (the filter is never true)"
	}
	var lines []string
	for _, c := range p.Calls {
		lines = append(lines, c.String())
	}
	s := strings.Join(lines, "; ")
	if p.Parent != nil {
		s += " for each " + p.Table.Parent.Column + " from [" + p.Parent.String() + "]"
	}
	return s
}

// Consistent reports a plan that reads Stripe's current state. Search
// results lag writes (by up to an hour in outages), so a plan that uses
// Search is eventually consistent.
func (p Plan) Consistent() bool {
	for _, c := range p.Calls {
		if c.Kind == Search {
			return false
		}
	}
	return p.Parent == nil || p.Parent.Consistent()
}

// FullScan is the plan that reads the whole table.
func FullScan(t *catalog.Table) Plan {
	return build(t, newConstraints())
}

// fillPath puts an id into a path as one escaped segment. Dots are
// escaped too, so an id of ".." cannot climb to another endpoint; no
// Stripe id contains a dot.
func fillPath(path, placeholder, value string) string {
	return strings.ReplaceAll(path, placeholder, strings.ReplaceAll(url.PathEscape(value), ".", "%2E"))
}

// Ordered reports that the plan returns rows newest first, as one Stripe
// list does: then ORDER BY Created DESC needs no sort.
func (p Plan) Ordered() bool {
	if p.Empty {
		return true
	}
	return len(p.Calls) == 1 && p.Parent == nil && p.Calls[0].Kind != Search
}

// WithPageSize returns the plan with list and search pages of n objects
// (1..100), for a LIMIT n that no residual condition can thin out.
func (p Plan) WithPageSize(n int) Plan {
	n = min(max(n, 1), 100)
	calls := make([]Call, len(p.Calls))
	for i, c := range p.Calls {
		if c.Kind != Retrieve {
			params := make([]catalog.Param, 0, len(c.Params)+1)
			for _, prm := range c.Params {
				if prm.Key != "limit" {
					params = append(params, prm)
				}
			}
			c.Params = append(params, catalog.Param{Key: "limit", Value: strconv.Itoa(n)})
		}
		calls[i] = c
	}
	p.Calls = calls
	return p
}

// ForParent returns the call with a parent id in place of the placeholder,
// for one step of a fan-out over a parent table.
func (c Call) ForParent(placeholder, id string) Call {
	c.Path = fillPath(c.Path, placeholder, id)
	c.ParentID = id
	return c
}
