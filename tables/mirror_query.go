package tables

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
)

// A routed read turns its pushdown plan, the Stripe calls a live read
// would make, into queries of the mirror's store: the ids of retrieves,
// the created bounds of lists, and their equality filters on string
// columns, each mapped to the JSON path of its column. A query may select
// more than the call did (the store's indexes only save work): the engine
// re-checks every row, and a lookup by join keys re-checks its keys, as
// for live reads.

// mirrorQueries returns the queries whose union holds every object the
// plan's calls could return; one query per partition. nil for a plan
// that is never true.
func mirrorQueries(plan pushdown.Plan) []mirrorQuery {
	if plan.Empty {
		return nil
	}
	def := plan.Table
	// The plans a read adds (test-clock scans) find objects the table's
	// own lists hide; the mirror holds those with the rest, so only the
	// plan's own calls narrow the read. A fan-out over a parent table
	// (a nested table read without its parent key) narrows by the call's
	// other parameters.
	var ids []string
	allRetrieves := len(plan.Calls) > 0
	var qs []mirrorQuery
	for _, c := range plan.Calls {
		q := queryOfCall(def, c)
		if c.Kind == pushdown.Retrieve && len(q.Equal) == 0 && q.IDs != nil {
			ids = append(ids, q.IDs...)
		} else {
			allRetrieves = false
		}
		qs = append(qs, q)
	}
	if allRetrieves {
		return []mirrorQuery{{IDs: uniqueStrings(ids)}}
	}
	// A query that narrows nothing holds every other: the table once.
	for _, q := range qs {
		if wholeTable(q) {
			return []mirrorQuery{{}}
		}
	}
	if len(qs) == 0 {
		return []mirrorQuery{{}}
	}
	return qs
}

func wholeTable(q mirrorQuery) bool {
	return q.IDs == nil && q.CreatedGTE == nil && q.CreatedLTE == nil && len(q.Equal) == 0
}

// queryOfCall is the query of one Stripe call. A Search call (a live
// plan's, made before the table was routed) is not translated: the whole
// table, which the engine filters.
func queryOfCall(def *catalog.Table, c pushdown.Call) mirrorQuery {
	var q mirrorQuery
	addEqual := func(path, value string) {
		if q.Equal == nil {
			q.Equal = map[string][]string{}
		}
		if !slices.Contains(q.Equal[path], value) {
			q.Equal[path] = append(q.Equal[path], value)
		}
	}
	if c.ParentID != "" && def.Parent != nil {
		if col, ok := def.Column(def.Parent.Column); ok && col.Path != "" {
			addEqual(col.Path, c.ParentID)
		}
	}
	switch c.Kind {
	case pushdown.Search:
		return mirrorQuery{}
	case pushdown.Retrieve:
		if def.Singleton {
			return q
		}
		if id, ok := retrievedID(c.Path); ok {
			q.IDs = []string{id}
		}
		return q
	}
	for _, p := range c.Params {
		key, op, ranged := strings.Cut(p.Key, "[")
		op = strings.TrimSuffix(op, "]")
		if def.Parent != nil && def.Parent.Param != "" && key == def.Parent.Param && !ranged {
			if col, ok := def.Column(def.Parent.Column); ok && col.Path != "" {
				addEqual(col.Path, p.Value)
			}
			continue
		}
		if fixedParam(def, p) {
			continue // a whole-table scan's own parameter (status=all): no narrowing
		}
		f := filterOfParam(def, key)
		if f == nil {
			continue // limit, expand[]: no narrowing
		}
		col, ok := def.Column(f.Column)
		if !ok || col.Path == "" {
			continue
		}
		if col.Path == "created" {
			v, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil {
				continue
			}
			switch {
			case !ranged:
				q.CreatedGTE, q.CreatedLTE = lower(q.CreatedGTE, v), upper(q.CreatedLTE, v)
			case op == "gte":
				q.CreatedGTE = lower(q.CreatedGTE, v)
			case op == "gt":
				q.CreatedGTE = lower(q.CreatedGTE, v+1)
			case op == "lte":
				q.CreatedLTE = upper(q.CreatedLTE, v)
			case op == "lt":
				q.CreatedLTE = upper(q.CreatedLTE, v-1)
			}
			continue
		}
		// Equality on string columns only (ids, enums, emails): the store
		// compares the JSON value's text, which for a number or a boolean
		// might not be the parameter's spelling.
		if !ranged && f.Ops&catalog.OpEq != 0 && (col.Type == catalog.String || col.Type == catalog.Text) {
			addEqual(col.Path, p.Value)
		}
	}
	return q
}

// lower and upper tighten a bound.
func lower(cur *int64, v int64) *int64 {
	if cur != nil && *cur >= v {
		return cur
	}
	return &v
}

func upper(cur *int64, v int64) *int64 {
	if cur != nil && *cur <= v {
		return cur
	}
	return &v
}

// fixedParam reports a parameter the table's own list calls always carry
// (ListParams) or that one of its whole-table scans carries (Scans):
// status=all reads every subscription, and selects none by status.
func fixedParam(def *catalog.Table, p catalog.Param) bool {
	if slices.Contains(def.ListParams, p) {
		return true
	}
	for _, set := range def.Scans {
		if slices.Contains(set, p) {
			return true
		}
	}
	return false
}

func filterOfParam(def *catalog.Table, param string) *catalog.Filter {
	for i := range def.Filters {
		if def.Filters[i].Param == param {
			return &def.Filters[i]
		}
	}
	return nil
}

// retrievedID is the object id a retrieve path ends in, unescaped as
// pushdown escaped it.
func retrievedID(path string) (string, bool) {
	i := strings.LastIndex(path, "/")
	if i < 0 {
		return "", false
	}
	id, err := url.PathUnescape(path[i+1:])
	if err != nil || id == "" {
		return "", false
	}
	return id, true
}

func uniqueStrings(vals []string) []string {
	out := make([]string, 0, len(vals))
	seen := map[string]bool{}
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// withPaths returns q reading only the columns b builds and the column a
// lookup re-checks; nil Paths (every path) when b builds every column.
func withPaths(q mirrorQuery, def *catalog.Table, b *rowBuilder, match *keyMatch) mirrorQuery {
	if len(b.cols) == len(def.Columns) {
		return q
	}
	paths := []string{}
	for _, c := range b.cols {
		if c.col.Path != "" && !slices.Contains(paths, c.col.Path) {
			paths = append(paths, c.col.Path)
		}
	}
	if match != nil && match.column.Path != "" && !slices.Contains(paths, match.column.Path) {
		paths = append(paths, match.column.Path)
	}
	q.Paths = paths
	return q
}

// describeQueries is what EXPLAIN shows of a routed read's queries.
func describeQueries(qs []mirrorQuery, def *catalog.Table) string {
	if len(qs) == 0 {
		return "nothing (the filter is never true)"
	}
	var parts []string
	for _, q := range qs {
		parts = append(parts, describeQuery(q, def))
	}
	return strings.Join(parts, "; ")
}

func describeQuery(q mirrorQuery, def *catalog.Table) string {
	if wholeTable(q) {
		return "whole table"
	}
	var by []string
	if q.IDs != nil {
		by = append(by, fmt.Sprintf("Id (%d %s)", len(q.IDs), plural(len(q.IDs), "id", "ids")))
	}
	keys := make([]string, 0, len(q.Equal))
	for path := range q.Equal {
		keys = append(keys, path)
	}
	slices.Sort(keys)
	for _, path := range keys {
		name := path
		for _, c := range def.Columns {
			if c.Path == path {
				name = c.Name
				break
			}
		}
		vals := q.Equal[path]
		if len(vals) == 1 {
			by = append(by, fmt.Sprintf("%s = %s", name, vals[0]))
		} else {
			by = append(by, fmt.Sprintf("%s in %d values", name, len(vals)))
		}
	}
	if q.CreatedGTE != nil || q.CreatedLTE != nil {
		lo, hi := "…", "…"
		if q.CreatedGTE != nil {
			lo = time.Unix(*q.CreatedGTE, 0).UTC().Format(time.DateTime)
		}
		if q.CreatedLTE != nil {
			hi = time.Unix(*q.CreatedLTE, 0).UTC().Format(time.DateTime)
		}
		by = append(by, fmt.Sprintf("Created range [%s, %s] UTC", lo, hi))
	}
	return "by " + strings.Join(by, " and ")
}

// mirrorNote is what EXPLAIN shows of a routed read, made when it is
// shown (a plan that is only run never asks the mirror for its count):
//
//	mirror: Customers (ready, lag 1.4 s), whole table (12 objects)
//	mirror: Customers (ready, lag 0.3 s), by Id (2 ids)
type mirrorNote struct {
	m    Mirror
	def  *catalog.Table
	plan pushdown.Plan
}

func (n *mirrorNote) String() string {
	_, lag := n.m.Ready(n.def.Name)
	qs := mirrorQueries(n.plan)
	what := describeQueries(qs, n.def)
	if len(qs) == 1 && wholeTable(qs[0]) {
		if c, err := n.m.Count(context.Background(), n.def.Name); err == nil {
			what += fmt.Sprintf(" (%d %s)", c, plural(int(c), "object", "objects"))
		}
	}
	return fmt.Sprintf("mirror: %s (ready, lag %s), %s", n.def.Name, lagText(lag), what)
}
