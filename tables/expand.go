package tables

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// expanded files the objects a call's expand[] parameters inline under the
// retrieve a join's lookup of them sends, so that lookup is answered from
// the per-query cache.
//
// The planner expands only the fields the catalog marks Expandable (from
// Stripe's spec). Should Stripe refuse an expansion all the same, before
// any object has been returned, the call is sent again without its
// expansions and the lookups fetch the objects themselves: the query costs
// more calls, but it still answers.
func (d *Database) expanded(ctx *sql.Context, table string, c pushdown.Call, src objects) objects {
	var fields []string
	for _, p := range c.Params {
		if p.Key == "expand[]" {
			fields = append(fields, strings.TrimPrefix(p.Value, "data."))
		}
	}
	if len(fields) == 0 {
		return src
	}
	return &expandFiler{db: d, pid: ctx.Pid(), src: src, fields: fields, unexpanded: func() objects {
		return d.callObjects(ctx, table, withoutExpansions(c))
	}}
}

// expandedFields returns the top-level fields c expands (expand[]
// "data.customer.default_source" expands customer): a projected decode
// keeps them whole.
func expandedFields(c pushdown.Call) []string {
	var out []string
	for _, p := range c.Params {
		if p.Key == "expand[]" {
			f, _, _ := strings.Cut(strings.TrimPrefix(p.Value, "data."), ".")
			out = append(out, f)
		}
	}
	return out
}

// withoutExpansions returns c without its expand[] parameters.
func withoutExpansions(c pushdown.Call) pushdown.Call {
	params := make([]catalog.Param, 0, len(c.Params))
	for _, p := range c.Params {
		if p.Key != "expand[]" {
			params = append(params, p)
		}
	}
	c.Params = params
	return c
}

// expansionRefused reports Stripe's answer to an expansion it does not
// allow: 400 invalid_request_error on the expand parameter.
func expansionRefused(err error) bool {
	var se *stripeapi.Error
	return errors.As(err, &se) && se.HTTPStatus == http.StatusBadRequest &&
		se.Type == "invalid_request_error" && strings.HasPrefix(se.Param, "expand")
}

type expandFiler struct {
	db         *Database
	pid        uint64
	src        objects
	fields     []string
	unexpanded func() objects
	returned   bool
}

func (e *expandFiler) close() { e.src.close() }

func (e *expandFiler) next() (stripeapi.Object, error) {
	obj, err := e.src.next()
	if err != nil && !e.returned && expansionRefused(err) {
		e.src.close()
		e.src, e.fields = e.unexpanded(), nil
		obj, err = e.src.next()
	}
	if err != nil {
		return obj, err
	}
	e.returned = true
	for _, f := range e.fields {
		sub, ok := obj[f].(map[string]any)
		if !ok {
			continue
		}
		kind, _ := sub["object"].(string)
		id, _ := sub["id"].(string)
		def, ok := e.db.catalog.ByObject(kind)
		if !ok || id == "" || def.RetrievePath == "" || def.Parent != nil {
			continue
		}
		call := pushdown.Call{Kind: pushdown.Retrieve, Path: pushdown.RetrievePath(def, id)}
		e.db.cache.put(e.pid, call.String(), []stripeapi.Object{stripeapi.Object(sub)})
	}
	return obj, nil
}
