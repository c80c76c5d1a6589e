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
	"slices"
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
	// FillParam names the parameter of a fan-out call whose value is the
	// plan's placeholder. Only that parameter is filled: a user's value
	// that happens to read "{test_clock}" stays what it is.
	FillParam string
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
		if p.Key == c.FillParam {
			b.WriteString(p.Value) // the placeholder, shown as written
		} else {
			b.WriteString(url.QueryEscape(p.Value))
		}
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
	// Parent, when set, makes the plan a fan-out: every call holds
	// Placeholder (in its path or a parameter), filled with each Id the
	// Parent plan yields, a plan on ParentTable. A nested table read
	// without its parent key fans out over the parent table; a test-clock
	// scan fans out over the test clocks.
	Parent      *Plan
	Placeholder string
	ParentTable string
	// Also are further plans whose rows are added (test-clock scans).
	Also []Plan
	// Merge asks for the rows of all calls merged newest first, instead
	// of call after call (ORDER BY Created DESC over several lists).
	Merge bool

	// clockSets are the list parameter sets that hide test-clock objects;
	// Resolve adds the scans that reveal them.
	clockSets [][]catalog.Param
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
		s += " for each " + p.Placeholder + " in [" + p.Parent.String() + "]"
	}
	for _, also := range p.Also {
		s += "; " + also.String()
	}
	if p.Merge {
		s += " (merged newest first)"
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
	for _, also := range p.Also {
		if !also.Consistent() {
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

// Mergeable reports that every call of the plan returns objects newest
// first, as Stripe lists and retrieves do (Search results have no
// documented order), so that merging its streams by creation time gives
// ORDER BY Created DESC without a sort.
func (p Plan) Mergeable() bool {
	for _, c := range p.Calls {
		if c.Kind == Search {
			return false
		}
	}
	for _, also := range p.Also {
		if !also.Mergeable() {
			return false
		}
	}
	return true
}

// MinCalls is the least number of Stripe calls the plan makes (each list
// at least one page, each fan-out at least its parent's calls).
func (p Plan) MinCalls() int {
	if p.Empty {
		return 0
	}
	n := len(p.Calls)
	if p.Parent != nil {
		n = p.Parent.MinCalls()
	}
	for _, also := range p.Also {
		n += also.MinCalls()
	}
	return n
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
	for i := range p.Also {
		p.Also[i] = p.Also[i].WithPageSize(n)
	}
	return p
}

// WithExpand returns the plan with field expanded in every call's objects
// (expand[]=data.field on lists and searches, expand[]=field on
// retrieves), so one call carries the objects a join looks up. Parent
// plans of fan-outs are left alone: they only supply ids.
func (p Plan) WithExpand(field string) Plan {
	calls := make([]Call, len(p.Calls))
	for i, c := range p.Calls {
		value := "data." + field
		if c.Kind == Retrieve {
			value = field
		}
		param := catalog.Param{Key: "expand[]", Value: value}
		if !slices.Contains(c.Params, param) {
			c.Params = append(append([]catalog.Param(nil), c.Params...), param)
		}
		calls[i] = c
	}
	p.Calls = calls
	also := make([]Plan, len(p.Also))
	for i := range p.Also {
		also[i] = p.Also[i].WithExpand(field)
	}
	p.Also = also
	return p
}

// Expands reports whether every call of the plan expands field, so that
// the objects it references come with the plan's own objects.
func (p Plan) Expands(field string) bool {
	if p.Empty || len(p.Calls) == 0 {
		return false
	}
	for _, c := range p.Calls {
		value := "data." + field
		if c.Kind == Retrieve {
			value = field
		}
		if !slices.Contains(c.Params, catalog.Param{Key: "expand[]", Value: value}) {
			return false
		}
	}
	for _, also := range p.Also {
		if !also.Expands(field) {
			return false
		}
	}
	return true
}

// ForParent returns the call with a parent id in place of the placeholder
// (in the path, escaped, or as a parameter value), for one step of a
// fan-out.
func (c Call) ForParent(placeholder, id string) Call {
	c.Path = fillPath(c.Path, placeholder, id)
	if c.FillParam != "" {
		params := make([]catalog.Param, len(c.Params))
		for i, p := range c.Params {
			if p.Key == c.FillParam && p.Value == placeholder {
				p.Value = id
			}
			params[i] = p
		}
		c.Params = params
		c.FillParam = ""
	}
	c.ParentID = id
	return c
}
