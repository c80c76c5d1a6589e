package tables

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/stripeapi"
)

// rowOf converts a Stripe object into a row of the table's full schema.
// Values have exactly the Go types the engine expects (gms-notes §6): the
// engine does not convert what a table returns. Reads go through a table's
// rowBuilder; this is for the few rows a write returns.
func rowOf(def *catalog.Table, obj stripeapi.Object, zone *time.Location) (sql.Row, error) {
	return newRowBuilder(def, nil).row(obj, zone)
}

// rowBuilder builds the rows of one table access: the values of the
// columns the query uses (a projection), in the projection's order. The
// column paths are split once, here, rather than for every row.
type rowBuilder struct {
	def  *catalog.Table
	cols []columnReader
	// built counts the values built, for tests (COUNT(*) builds none);
	// nil counts nothing.
	built *atomic.Uint64
	// projected reports that the builder reads only some columns (the
	// engine's projection), so a scan may decode only their paths.
	projected bool
}

// columnReader reads one column out of an object.
type columnReader struct {
	col  *catalog.Column
	path []string // nil for a write-only column, which reads as NULL
}

// newRowBuilder returns the builder of the columns at positions idx of
// def.Columns, or of every column if idx is nil.
func newRowBuilder(def *catalog.Table, idx []int) *rowBuilder {
	projected := idx != nil
	if idx == nil {
		idx = make([]int, len(def.Columns))
		for i := range idx {
			idx[i] = i
		}
	}
	b := &rowBuilder{def: def, cols: make([]columnReader, len(idx)), projected: projected}
	for i, ci := range idx {
		c := &def.Columns[ci]
		b.cols[i].col = c
		if c.Path != "" {
			b.cols[i].path = strings.Split(c.Path, ".")
		}
	}
	return b
}

// scanPaths returns the object paths a scan feeding this builder must
// decode, or nil for every path (no projection): the columns' paths, and
// what the scan itself reads of every object (rowIter: object, deleted,
// id; rangescan's cursor and split: id, created; a nested table's parent
// column, filled in when missing).
func (b *rowBuilder) scanPaths() []string {
	if !b.projected {
		return nil
	}
	paths := []string{"id", "object", "created", "deleted"}
	for _, c := range b.cols {
		if c.col.Path != "" {
			paths = append(paths, c.col.Path)
		}
	}
	if b.def.Parent != nil {
		if col, ok := b.def.Column(b.def.Parent.Column); ok && col.Path != "" {
			paths = append(paths, col.Path)
		}
	}
	return paths
}

// row converts obj into a row of the builder's columns.
func (b *rowBuilder) row(obj stripeapi.Object, zone *time.Location) (sql.Row, error) {
	row := make(sql.Row, len(b.cols))
	for i := range b.cols {
		r := &b.cols[i]
		if r.path == nil {
			continue
		}
		v, err := columnValue(*r.col, walkPath(obj, r.path), zone)
		if err != nil {
			return nil, fmt.Errorf("%s %v: column %s: %w", b.def.Object, obj["id"], r.col.Name, err)
		}
		row[i] = v
	}
	if b.built != nil && len(b.cols) > 0 {
		b.built.Add(uint64(len(b.cols)))
	}
	return row, nil
}

// walkPath follows path through nested objects; a missing step is nil.
func walkPath(obj map[string]any, path []string) any {
	v, ok := obj[path[0]]
	if !ok || len(path) == 1 {
		return v
	}
	for _, step := range path[1:] {
		m, ok := asObject(v)
		if !ok {
			return nil
		}
		v = m[step]
	}
	return v
}

// asObject is v's fields if v is a nested object: map[string]any as
// decoded, stripeapi.Object as the client returns pages' objects.
func asObject(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case stripeapi.Object:
		return x, true
	}
	return nil, false
}

// columnValue converts a Stripe value into the column's SQL value. A
// TIMESTAMP is the clock reading in zone, the session's time zone, as
// MySQL shows TIMESTAMP columns (see package sqltime).
func columnValue(c catalog.Column, v any, zone *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.Type {
	case catalog.String, catalog.Text:
		return stringValue(v)
	case catalog.Integer:
		return integerValue(v)
	case catalog.Float:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want a number, got %T", v)
		}
		return n.Float64()
	case catalog.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, got %T", v)
		}
		if b {
			return int8(1), nil
		}
		return int8(0), nil
	case catalog.Timestamp:
		secs, err := integerValue(v)
		if err != nil {
			return nil, err
		}
		return sqltime.Wall(time.Unix(secs.(int64), 0), zone), nil
	case catalog.JSON:
		return types.JSONDocument{Val: jsonValue(v)}, nil
	}
	return nil, fmt.Errorf("unknown column type %v", c.Type)
}

// stringValue renders ids, enums and text. An expanded reference (an
// object where an id is usual) yields its id.
func stringValue(v any) (any, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case json.Number:
		return s.String(), nil
	case bool:
		return strconv.FormatBool(s), nil
	case map[string]any:
		if id, ok := s["id"].(string); ok {
			return id, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func integerValue(v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("want an integer, got %T", v)
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("want an integer, got %q", n)
	}
	return int64(f), nil
}

// jsonValue converts decoded JSON into the values the engine's JSON type
// holds: numbers as float64, as encoding/json would decode them.
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case stripeapi.Object:
		return jsonValue(map[string]any(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

// lookupPath follows a dot-separated path through nested objects; a missing
// step is nil. For hot loops, split the path once and use walkPath.
func lookupPath(obj map[string]any, path string) any {
	var cur any = obj
	for rest, more := path, true; more; {
		var step string
		step, rest, more = strings.Cut(rest, ".")
		m, ok := asObject(cur)
		if !ok {
			return nil
		}
		cur = m[step]
	}
	return cur
}
