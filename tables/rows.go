package tables

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// rowOf converts a Stripe object into a row of the table's full schema.
// Values have exactly the Go types the engine expects (gms-notes §6): the
// engine does not convert what a table returns.
func rowOf(def *catalog.Table, obj stripeapi.Object) (sql.Row, error) {
	row := make(sql.Row, len(def.Columns))
	for i, c := range def.Columns {
		if c.Path == "" {
			continue // write-only column
		}
		v, err := columnValue(c, lookupPath(obj, c.Path))
		if err != nil {
			return nil, fmt.Errorf("%s %v: column %s: %w", def.Object, obj["id"], c.Name, err)
		}
		row[i] = v
	}
	return row, nil
}

// lookupPath follows a dot-separated path through nested objects; a missing
// step is nil.
func lookupPath(obj map[string]any, path string) any {
	var cur any = obj
	for _, step := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			if o, isObj := cur.(stripeapi.Object); isObj {
				m = o
			} else {
				return nil
			}
		}
		cur = m[step]
	}
	return cur
}

func columnValue(c catalog.Column, v any) (any, error) {
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
		return time.Unix(secs.(int64), 0).UTC(), nil
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
