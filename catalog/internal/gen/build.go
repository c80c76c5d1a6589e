package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stripesql/stripesql/internal/stripespec"
)

// builder turns the spec into tables, actions and omissions. Every spec
// endpoint ends up in exactly one of: a table's role (list, retrieve,
// create, update, delete, search), an action, or an omission with a reason.
type builder struct {
	spec    *stripespec.Spec
	tables  []*table
	actions []*action
	omitted []omission
	// used marks the endpoints a table or action took, or that are left
	// out ("GET /v1/…"); left marks those left out.
	used map[string]bool
	left map[string]bool
}

func build(spec *stripespec.Spec) (*builder, error) {
	b := &builder{spec: spec, used: map[string]bool{}, left: map[string]bool{}}
	for k, reason := range omittedEndpoints {
		method, path, _ := strings.Cut(k, " ")
		b.omit(method, path, reason)
	}
	b.listTables()
	b.singletonTables()
	for _, t := range b.tables {
		b.endpoints(t)
	}
	for _, t := range b.tables {
		b.parentColumn(t)
		b.filters(t)
		b.writes(t)
		b.search(t)
	}
	b.refs()
	b.classifyRest()
	if err := b.check(); err != nil {
		return nil, err
	}
	sort.Slice(b.tables, func(i, j int) bool { return b.tables[i].Name < b.tables[j].Name })
	sort.Slice(b.actions, func(i, j int) bool { return b.actions[i].Name < b.actions[j].Name })
	sort.Slice(b.omitted, func(i, j int) bool {
		if b.omitted[i].Path != b.omitted[j].Path {
			return b.omitted[i].Path < b.omitted[j].Path
		}
		return b.omitted[i].Method < b.omitted[j].Method
	})
	return b, nil
}

func (b *builder) omit(method, path, reason string) {
	k := method + " " + path
	if b.used[k] {
		return
	}
	b.used[k], b.left[k] = true, true
	b.omitted = append(b.omitted, omission{Method: method, Path: path, Reason: reason})
}

func (b *builder) use(method, path string) { b.used[method+" "+path] = true }

// byShape finds the table whose spec list path has the given shape.
func (b *builder) byShape(listShape string) *table {
	for _, t := range b.tables {
		if !t.Singleton && shape(t.specPaths["list"]) == listShape {
			return t
		}
	}
	return nil
}

// byObject finds a table of an object type, preferring top-level ones.
func (b *builder) byObject(object string) *table {
	var nested *table
	for _, t := range b.tables {
		if t.Object != object || t.Singleton || len(t.ListParams) > 0 {
			continue
		}
		if t.Parent == nil || t.Parent.Param != "" {
			return t
		}
		if nested == nil {
			nested = t
		}
	}
	return nested
}

// byObjectName finds the top-level table of an object type or of an
// object type's last part (financial_account → treasury.financial_account).
func (b *builder) byObjectName(name string) *table {
	if t := b.byObject(name); t != nil && t.Parent == nil {
		return t
	}
	for _, t := range b.tables {
		if lastPart(t.Object) == name && t.Parent == nil && !t.Singleton && len(t.ListParams) == 0 {
			return t
		}
	}
	return nil
}

// listTables makes a table of every list endpoint not skipped. Lists
// that require a query parameter naming their parent come last, once the
// parents exist.
func (b *builder) listTables() {
	var deferred []stripespec.Endpoint
	for _, e := range b.spec.Endpoints() {
		if e.Method != "GET" || strings.HasSuffix(e.Path, "/search") {
			continue
		}
		items, ok := b.spec.IsList(b.spec.ResponseSchema(e.Op))
		if !ok {
			continue
		}
		if reason, skip := skippedLists[e.Path]; skip {
			b.omit("GET", e.Path, "no table: "+reason)
			continue
		}
		if requiresQuery(e.Op) {
			deferred = append(deferred, e)
			continue
		}
		b.listTable(e, items)
	}
	for _, e := range deferred {
		items, _ := b.spec.IsList(b.spec.ResponseSchema(e.Op))
		b.listTable(e, items)
	}
}

func requiresQuery(op *stripespec.Operation) bool {
	for _, p := range op.Parameters {
		if p.In == "query" && p.Required {
			return true
		}
	}
	return false
}

func (b *builder) listTable(e stripespec.Endpoint, items *stripespec.Schema) {
	segs := segments(e.Path)
	var parentPlaceholder string
	var par *table
	for i, s := range segs {
		if isPlaceholder(s) {
			if parentPlaceholder != "" {
				b.omit("GET", e.Path, "no table: nested two levels deep")
				return
			}
			parentPlaceholder = s
			par = b.byShape(shape("/v1/" + strings.Join(segs[:i], "/")))
			if par == nil {
				b.omit("GET", e.Path, "no table: its parent resource has no table")
				return
			}
		}
	}
	// A required query parameter naming another table's object makes that
	// table the parent (subscription_items?subscription=…).
	var paramParent *table
	var paramName string
	for _, p := range e.Op.Parameters {
		if p.In == "query" && p.Required {
			if paramParent != nil || par != nil {
				b.omit("GET", e.Path, "no table: the list requires several parameters")
				return
			}
			paramParent, paramName = b.byObjectName(p.Name), p.Name
			if paramParent == nil {
				b.omit("GET", e.Path, "no table: the list requires "+p.Name+", which names no table's objects")
				return
			}
		}
	}

	branches := b.spec.Branches(items)
	type variant struct {
		schema *stripespec.Schema
		object string
		param  [][2]string
	}
	var variants []variant
	if len(branches) == 1 {
		variants = []variant{{schema: branches[0], object: b.spec.ObjectName(branches[0])}}
	} else {
		// A polymorphic list with an object= filter: one table per type.
		var objParam *stripespec.Parameter
		for _, p := range e.Op.Parameters {
			if p.In == "query" && p.Name == "object" {
				objParam = p
			}
		}
		types := splitLists[e.Path]
		if objParam != nil && types == nil {
			types = stripespec.EnumStrings(objParam.Schema)
		}
		if objParam == nil || len(types) == 0 {
			b.omit("GET", e.Path, "no table: the list mixes object types without an object filter")
			return
		}
		for _, br := range branches {
			obj := b.spec.ObjectName(br)
			for _, v := range types {
				if v == obj {
					variants = append(variants, variant{schema: br, object: obj, param: [][2]string{{"object", obj}}})
				}
			}
		}
	}
	b.use("GET", e.Path)
	for _, v := range variants {
		t := &table{
			Object:     v.object,
			ListParams: v.param,
			specPaths:  map[string]string{"list": e.Path},
		}
		listPath := e.Path
		if par != nil {
			// The parent placeholder is named after the parent object, so
			// that it never reads {id}, which is the object's own.
			ph := "{" + lastPart(par.Object) + "}"
			listPath = strings.Replace(e.Path, parentPlaceholder, ph, 1)
			t.Parent = &parent{Table: par.Name, Placeholder: ph}
			t.specParent = parentPlaceholder
		}
		if paramParent != nil {
			t.Parent = &parent{Table: paramParent.Name, Placeholder: "{" + paramName + "}", Param: paramName}
		}
		t.ListPath = listPath
		t.Name = b.tableName(e.Path, v.object, par, len(variants) > 1)
		t.Comment = summary(e.Op.Description, 160)
		if t.Comment == "" {
			t.Comment = e.Op.Summary
		}
		t.Columns = b.columns(v.schema)
		b.tables = append(b.tables, t)
	}
}

// lastPart is the object type after its namespace (checkout.session →
// session).
func lastPart(object string) string {
	if i := strings.LastIndex(object, "."); i >= 0 {
		return object[i+1:]
	}
	return object
}

// tableName names a list endpoint's table: the override, or the object
// type pluralised in PascalCase, with a nested table's parent prefixed
// (InvoiceLineItems, CustomerBalanceTransactions) unless the object's name
// already starts with it.
func (b *builder) tableName(path, object string, par *table, polymorphic bool) string {
	if name, ok := tableNames[path]; ok {
		return name
	}
	if object == "" {
		object = segments(path)[len(segments(path))-1]
	}
	name := plural(pascal(object))
	if par == nil {
		return name
	}
	prefix := pascal(lastPart(par.Object))
	if !polymorphic {
		// Name nested tables after their path segment, which says what
		// they are to the parent (line_items), not the object type (item).
		segs := segments(path)
		name = pascal(segs[len(segs)-1])
	}
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return singular(parentSingular(par)) + name
}

// parentSingular is the singular of a parent table's name.
func parentSingular(t *table) string { return singular(t.Name) }

// singletonTables makes the one-row tables.
func (b *builder) singletonTables() {
	for _, path := range singletons {
		op := b.spec.Operation("GET", path)
		sc := b.spec.ResponseSchema(op)
		object := b.spec.ObjectName(sc)
		b.use("GET", path)
		t := &table{
			Name: pascal(object), Object: object, Singleton: true,
			ListPath:  path,
			Comment:   summary(op.Description, 160),
			specPaths: map[string]string{"list": path},
		}
		t.Columns = b.columns(sc)
		if b.spec.Operation("POST", path) != nil {
			t.UpdatePath = path
			t.specPaths["update"] = path
			b.use("POST", path)
		}
		b.tables = append(b.tables, t)
	}
}

// endpoints finds a table's retrieve, create, update and delete endpoints:
// the list path itself (create) and the list path plus one placeholder.
func (b *builder) endpoints(t *table) {
	if t.Singleton {
		return
	}
	list := t.specPaths["list"]
	for _, path := range b.spec.PathNames() {
		var role string
		switch shape(path) {
		case shape(list):
			role = "create"
		case shape(list) + "/{}":
			role = "item"
		default:
			continue
		}
		item := b.spec.Paths[path]
		norm := t.ListPath
		if role == "item" {
			norm = t.ListPath + "/{id}"
		}
		if item.Post != nil && !b.left["POST "+path] {
			if _, ct := b.spec.BodySchema(item.Post); ct != "" && ct != "application/x-www-form-urlencoded" {
				b.omit("POST", path, "a "+ct+" upload (to files.stripe.com), which a SQL value cannot carry")
			}
		}
		if role == "create" && item.Post != nil && !b.left["POST "+path] {
			t.CreatePath, t.specPaths["create"] = norm, path
			b.use("POST", path)
		}
		if role == "item" {
			if item.Get != nil {
				t.RetrievePath, t.specPaths["retrieve"] = norm, path
				b.use("GET", path)
			}
			if item.Post != nil && !b.left["POST "+path] {
				t.UpdatePath, t.specPaths["update"] = norm, path
				b.use("POST", path)
			}
			if item.Delete != nil {
				t.DeletePath, t.specPaths["delete"] = norm, path
				b.use("DELETE", path)
			}
		}
	}
}

// columns maps an object schema's top-level properties to columns: id
// first, the rest by name; nested objects whose properties are all scalars
// flattened one level, other objects, lists and maps as JSON.
func (b *builder) columns(obj *stripespec.Schema) []*column {
	obj = b.spec.Resolve(obj)
	names := stripespec.PropertyNames(obj)
	taken := map[string]bool{}
	for _, n := range names {
		taken[pascal(n)] = true
	}
	id := &column{Name: "Id", Type: tString, Path: "id", Comment: "Stripe object id"}
	if obj.Properties["id"] == nil {
		id.Path, id.Comment = "object", "the object's type: a singleton has no id"
	}
	cols := []*column{id}
	for _, n := range names {
		if n == "id" || n == "object" {
			continue
		}
		cols = append(cols, b.propertyColumns(obj, n, taken)...)
	}
	return cols
}

func (b *builder) propertyColumns(obj *stripespec.Schema, name string, taken map[string]bool) []*column {
	raw := obj.Properties[name]
	u, nullable := b.spec.Unwrap(raw)
	nullable = nullable || !stripespec.IsRequired(obj, name)
	c := &column{Name: pascal(name), Path: name, Nullable: nullable, Comment: b.comment(raw, u)}
	if exp := b.spec.Expansions(raw); exp != nil {
		c.Type, c.expands = tString, exp
		return []*column{c}
	}
	if typ, ok := b.scalarType(name, raw); ok {
		c.Type = typ
		return []*column{c}
	}
	if sub, ok := b.flattenable(u); ok {
		var cols []*column
		for _, s := range stripespec.PropertyNames(sub) {
			n := pascal(name) + pascal(s)
			if taken[n] {
				cols = nil
				break
			}
			sraw := sub.Properties[s]
			su, snull := b.spec.Unwrap(sraw)
			typ, _ := b.scalarType(s, sraw)
			sc := &column{
				Name: n, Type: typ, Path: name + "." + s,
				Nullable: nullable || snull || !stripespec.IsRequired(sub, s),
				Comment:  b.comment(sraw, su),
			}
			if exp := b.spec.Expansions(sraw); exp != nil {
				sc.expands = exp
			}
			cols = append(cols, sc)
		}
		if cols != nil {
			for _, sc := range cols {
				taken[sc.Name] = true
			}
			return cols
		}
	}
	c.Type = tJSON
	if u != nil && u.Type == "object" && len(u.Properties) > 0 {
		c.schema = u
	}
	return []*column{c}
}

// scalarType returns the column type of a scalar schema: an expandable id,
// a string (all of whose anyOf branches are strings), an integer (a unix
// time is a Timestamp), a number or a boolean.
func (b *builder) scalarType(name string, raw *stripespec.Schema) (colType, bool) {
	if b.spec.Expansions(raw) != nil {
		return tString, true
	}
	u, _ := b.spec.Unwrap(raw)
	if u == nil {
		return "", false
	}
	if len(u.AnyOf) > 1 {
		for _, br := range u.AnyOf {
			if r := b.spec.Resolve(br); r == nil || r.Type != "string" {
				return "", false
			}
		}
		return tString, true
	}
	switch u.Type {
	case "string":
		if isText(name, u) {
			return tText, true
		}
		return tString, true
	case "integer":
		if u.Format == "unix-time" || name == "created" {
			return tTimestamp, true
		}
		return tInteger, true
	case "number":
		return tFloat, true
	case "boolean":
		return tBoolean, true
	}
	return "", false
}

// isText picks LONGTEXT for free text and URLs, VARCHAR(255) for ids,
// enums, codes and names.
func isText(name string, u *stripespec.Schema) bool {
	if len(u.Enum) > 0 {
		return false
	}
	switch name {
	case "description", "footer", "header", "memo", "url", "invoice_pdf", "message", "failure_message":
		return true
	}
	return strings.HasSuffix(name, "_url") || strings.HasSuffix(name, "_message") || u.MaxLength > 5000
}

// maxFlattened is the most properties an object may have to be flattened
// into columns; a larger one (an account's 60 capabilities) is one JSON
// column.
const maxFlattened = 20

// flattenable returns an object schema whose properties are all scalars,
// which become one column each.
func (b *builder) flattenable(u *stripespec.Schema) (*stripespec.Schema, bool) {
	if u == nil || u.Type != "object" || len(u.Properties) == 0 || len(u.Properties) > maxFlattened || stripespec.MapValues(u) != nil {
		return nil, false
	}
	if _, isList := b.spec.IsList(u); isList {
		return nil, false
	}
	for n, p := range u.Properties {
		if _, ok := b.scalarType(n, p); !ok {
			return nil, false
		}
	}
	return u, true
}

// comment documents a column: the first sentence of the spec's
// description, and the values of an enum.
func (b *builder) comment(raw, u *stripespec.Schema) string {
	desc := raw.Description
	if desc == "" && u != nil {
		desc = u.Description
	}
	s := summary(desc, 100)
	if u != nil {
		if vals := stripespec.EnumStrings(u); len(vals) > 0 {
			s = strings.TrimSpace(s + " One of: " + enumList(vals) + ".")
		}
	}
	return s
}

func enumList(vals []string) string {
	if len(vals) > 12 {
		return strings.Join(vals[:12], ", ") + fmt.Sprintf(", … (%d values)", len(vals))
	}
	return strings.Join(vals, ", ")
}

// parentColumn names the column holding a nested object's parent id
// <Parent>Id: the object's own field for it when there is one (a balance
// transaction's customer), else a column filled from the call.
func (b *builder) parentColumn(t *table) {
	if t.Parent == nil {
		return
	}
	par := b.tableNamed(t.Parent.Table)
	name := singular(par.Name) + "Id"
	field := strings.Trim(t.Parent.Placeholder, "{}")
	c := t.columnAt(field)
	if c == nil {
		for _, col := range t.Columns {
			for _, x := range col.expands {
				if x == par.Object && !strings.Contains(col.Path, ".") {
					c = col
				}
			}
		}
	}
	if c == nil {
		c = &column{Path: field, Type: tString}
		t.Columns = append(t.Columns[:1], append([]*column{c}, t.Columns[1:]...)...)
	}
	if other := t.column(name); other != nil && other != c {
		other.Name += "Field"
	}
	c.Name, c.Nullable = name, false
	if t.Parent.Param == "" && t.CreatePath != "" {
		c.Required = true // the create's path needs it
	}
	c.Comment = "the " + par.Object + " this object belongs to (" + par.Name + ".Id)"
	if t.Parent.Param == "" {
		c.Comment += "; part of the endpoint path"
	}
	t.Parent.Column = name
}

func (b *builder) tableNamed(name string) *table {
	for _, t := range b.tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// listParams returns a list endpoint's filter parameters: its query
// parameters except paging, expand and the table's fixed ones.
func (b *builder) listParams(t *table) []*stripespec.Parameter {
	op := b.spec.Operation("GET", t.specPaths["list"])
	var out []*stripespec.Parameter
	for _, p := range op.Parameters {
		if p.In != "query" {
			continue
		}
		switch p.Name {
		case "limit", "starting_after", "ending_before", "expand":
			continue
		}
		if t.Parent != nil && p.Name == t.Parent.Param {
			continue
		}
		if len(t.ListParams) > 0 && p.Name == t.ListParams[0][0] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// isRange reports a created-style parameter: an integer or an object of
// gt/gte/lt/lte.
func (b *builder) isRange(sc *stripespec.Schema) bool {
	if r := b.spec.Resolve(sc); r != nil && r.Properties["gte"] != nil && r.Properties["lt"] != nil {
		return true
	}
	for _, br := range sc.AnyOf {
		if r := b.spec.Resolve(br); r != nil && r.Properties["gte"] != nil && r.Properties["lt"] != nil {
			return true
		}
	}
	return false
}

// filters maps each list parameter to a pushdown rule on the column at the
// same path, or records why it cannot be one.
func (b *builder) filters(t *table) {
	if t.Singleton {
		return
	}
	list := t.specPaths["list"]
	for _, p := range b.listParams(t) {
		reason := b.filter(t, p.Name, p.Name, p.Schema)
		if reason == "" {
			continue
		}
		if r, ok := unpushedReasons[list+" "+p.Name]; ok {
			reason = r
		} else if r, ok := unpushedReasons[p.Name]; ok {
			reason = r
		}
		t.Unpushed = append(t.Unpushed, unpushed{Param: p.Name, Reason: reason})
	}
}

// filter adds the rule for one parameter (param, at the object path
// path) and returns "" or the reason there is none.
func (b *builder) filter(t *table, param, path string, sc *stripespec.Schema) string {
	u, _ := b.spec.Unwrap(sc)
	if u.Type == "array" {
		return "a list of values, which the planner does not send"
	}
	if u.Type == "object" && len(u.Properties) > 0 && !b.isRange(sc) {
		var reasons []string
		for _, s := range stripespec.PropertyNames(u) {
			if r := b.filter(t, param+"["+s+"]", path+"."+s, u.Properties[s]); r != "" {
				reasons = append(reasons, s+": "+r)
			}
		}
		if len(reasons) > 0 {
			return strings.Join(reasons, "; ")
		}
		return ""
	}
	c := t.columnAt(path)
	if c == nil {
		c = b.derived(t, path)
	}
	if c != nil && c.Type == tJSON && c.schema != nil && c.schema.Properties["id"] != nil && !strings.Contains(path, ".") {
		// An embedded object (an authorization's card) is selected by
		// its id: a column for the id.
		c = b.derived(t, path+".id")
	}
	if c == nil {
		return "no column holds " + path
	}
	rng := b.isRange(sc)
	switch c.Type {
	case tString, tText, tBoolean:
		if rng {
			return "a range on a non-time column"
		}
	case tTimestamp:
		if !rng {
			return "an exact time, which the planner only sends as a range"
		}
	case tInteger:
	default:
		return "compares the " + string(c.Type) + " column " + c.Name
	}
	var enum []string
	for _, br := range b.branches(sc) {
		enum = append(enum, stripespec.EnumStrings(br)...)
	}
	t.Filters = append(t.Filters, filter{Column: c.Name, Param: param, Range: rng, Enum: enum})
	return ""
}

// derived adds the column a list filter needs for a scalar field inside a
// JSON column (customer_details.email of a Checkout Session), after that
// column, and returns it; nil if there is no such field.
func (b *builder) derived(t *table, path string) *column {
	top, sub, ok := strings.Cut(path, ".")
	if !ok || strings.Contains(sub, ".") {
		return nil
	}
	for i, jc := range t.Columns {
		if jc.Path != top || jc.Type != tJSON || jc.schema == nil || jc.schema.Properties[sub] == nil {
			continue
		}
		typ, ok := b.scalarType(sub, jc.schema.Properties[sub])
		if !ok {
			return nil
		}
		name := jc.Name + pascal(sub)
		if t.column(name) != nil {
			return nil
		}
		raw := jc.schema.Properties[sub]
		u, _ := b.spec.Unwrap(raw)
		c := &column{Name: name, Type: typ, Path: path, Nullable: true, Comment: b.comment(raw, u)}
		t.Columns = append(t.Columns[:i+1], append([]*column{c}, t.Columns[i+1:]...)...)
		return c
	}
	return nil
}

// writes marks the columns a create or update sets, from the request body
// schemas: a column whose path is a parameter, a flattened column whose
// path is a parameter's sub-key (address[city]), and, for parameters a
// create requires that no column holds, a write-only column.
func (b *builder) writes(t *table) {
	for _, role := range []string{"create", "update"} {
		path := t.specPaths[role]
		if path == "" {
			continue
		}
		body, _ := b.spec.BodySchema(b.spec.Operation("POST", path))
		if body == nil {
			continue
		}
		for _, p := range stripespec.PropertyNames(body) {
			if p == "expand" || p == "id" {
				continue // Stripe assigns ids (a product's may be chosen, not through SQL)
			}
			required := role == "create" && stripespec.IsRequired(body, p)
			b.write(t, role, p, body.Properties[p], required)
		}
	}
}

func (b *builder) write(t *table, role, p string, ps *stripespec.Schema, required bool) {
	set := func(c *column, param string, req bool) {
		if role == "create" {
			c.CreateParam = param
			c.Required = c.Required || req
		} else {
			c.UpdateParam = param
		}
	}
	if c := t.columnAt(p); c != nil && b.accepts(ps, c.Type) {
		set(c, p, required)
		return
	}
	if obj := b.objectBranch(ps); obj != nil && b.coversRequired(t, p, obj) {
		matched := false
		for _, s := range stripespec.PropertyNames(obj) {
			if c := t.columnAt(p + "." + s); c != nil && b.accepts(obj.Properties[s], c.Type) {
				set(c, p+"["+s+"]", required && stripespec.IsRequired(obj, s))
				matched = true
			}
		}
		if matched {
			return
		}
	}
	if !required {
		return
	}
	// A parameter the create needs that no field holds: a write-only
	// column (read as NULL), like a card's Token.
	name := pascal(p)
	if t.column(name) != nil {
		name += "Param"
	}
	typ := tJSON
	switch k := b.kind(ps); k {
	case pText, pBoolean:
		typ = map[paramKind]colType{pText: tString, pBoolean: tBoolean}[k]
	case pInteger:
		typ = tInteger
	}
	u, _ := b.spec.Unwrap(ps)
	t.Columns = append(t.Columns, &column{
		Name: name, Type: typ, Nullable: true, CreateParam: p, Required: true,
		Comment: strings.TrimSpace("write-only: " + b.comment(ps, u)),
	})
}

// coversRequired reports whether flattened columns hold every property a
// parameter object requires (custom_unit_amount[enabled] has none, so a
// price's CustomUnitAmount* columns cannot make a valid parameter).
func (b *builder) coversRequired(t *table, p string, obj *stripespec.Schema) bool {
	for _, r := range obj.Required {
		if t.columnAt(p+"."+r) == nil {
			return false
		}
	}
	return true
}

// objectBranch returns the object schema a parameter accepts, if any.
func (b *builder) objectBranch(ps *stripespec.Schema) *stripespec.Schema {
	for _, br := range b.branches(ps) {
		if br.Type == "object" && len(br.Properties) > 0 {
			return br
		}
	}
	return nil
}

// branches returns a parameter's alternatives, resolved, without the
// empty string Stripe accepts to unset a field.
func (b *builder) branches(ps *stripespec.Schema) []*stripespec.Schema {
	u, _ := b.spec.Unwrap(ps)
	if u == nil {
		return nil
	}
	list := []*stripespec.Schema{u}
	if len(u.AnyOf) > 1 {
		list = nil
		for _, br := range u.AnyOf {
			list = append(list, b.spec.Resolve(br))
		}
	}
	var out []*stripespec.Schema
	for _, br := range list {
		if br == nil {
			continue
		}
		if vals := stripespec.EnumStrings(br); len(vals) == 1 && vals[0] == "" {
			continue
		}
		out = append(out, br)
	}
	return out
}

// accepts reports whether a parameter takes a value of the column's type.
func (b *builder) accepts(ps *stripespec.Schema, typ colType) bool {
	if typ == tJSON {
		return true
	}
	for _, br := range b.branches(ps) {
		switch br.Type {
		case "string":
			// Stripe takes some numbers as strings (a card's exp_month on
			// update); a number's decimal text is a valid value.
			if typ == tString || typ == tText || typ == tInteger || typ == tFloat {
				return true
			}
		case "integer":
			if typ == tInteger || typ == tTimestamp {
				return true
			}
		case "number":
			if typ == tFloat || typ == tInteger {
				return true
			}
		case "boolean":
			if typ == tBoolean {
				return true
			}
		}
	}
	return false
}

// kind is the procedure parameter kind of a parameter schema.
func (b *builder) kind(ps *stripespec.Schema) paramKind {
	brs := b.branches(ps)
	if len(brs) == 0 {
		return pText
	}
	kinds := map[string]bool{}
	for _, br := range brs {
		switch br.Type {
		case "object", "array", "":
			return pJSON
		}
		kinds[br.Type] = true
	}
	switch {
	case len(kinds) == 1 && kinds["integer"]:
		return pInteger
	case len(kinds) == 1 && kinds["boolean"]:
		return pBoolean
	}
	return pText
}

// search maps a table's Search endpoint fields to its columns.
func (b *builder) search(t *table) {
	path := t.specPaths["list"] + "/search"
	if b.spec.Operation("GET", path) == nil || t.Parent != nil {
		return
	}
	b.use("GET", path)
	s := &search{Path: path}
	for _, f := range searchFields[path] {
		if c := t.columnAt(f[1]); c != nil {
			s.Fields = append(s.Fields, searchField{Column: c.Name, Field: f[0], Kind: f[2]})
		}
	}
	t.Search = s
}

// refs points expandable id columns at the tables of their objects.
func (b *builder) refs() {
	for _, t := range b.tables {
		for _, c := range t.Columns {
			for _, obj := range c.expands {
				if rt := b.byObject(obj); rt != nil && rt.Parent == nil {
					c.Ref = rt.Name
					break
				}
			}
			c.Polymorphic = c.Ref != "" && polymorphic(c.expands)
		}
	}
}

// polymorphic reports whether an expandable field may hold the ids of
// objects of more than one kind. A deleted object ("deleted_customer")
// is the same kind as its live one: its id is still a Customers.Id.
func polymorphic(expands []string) bool {
	kinds := map[string]bool{}
	for _, obj := range expands {
		kinds[strings.TrimPrefix(obj, "deleted_")] = true
	}
	return len(kinds) > 1
}

// check verifies the model: unique names, every endpoint accounted for.
func (b *builder) check() error {
	names := map[string]string{}
	for _, t := range b.tables {
		if prev, dup := names[strings.ToLower(t.Name)]; dup {
			return fmt.Errorf("table name %s used by %s and %s", t.Name, prev, t.specPaths["list"])
		}
		names[strings.ToLower(t.Name)] = t.specPaths["list"]
		cols := map[string]bool{}
		for _, c := range t.Columns {
			if cols[strings.ToLower(c.Name)] {
				return fmt.Errorf("table %s: column %s twice", t.Name, c.Name)
			}
			cols[strings.ToLower(c.Name)] = true
		}
	}
	procs := map[string]string{}
	for _, a := range b.actions {
		if prev, dup := procs[strings.ToLower(a.Name)]; dup {
			return fmt.Errorf("procedure name %s used by %s and %s %s", a.Name, prev, a.Method, a.Path)
		}
		procs[strings.ToLower(a.Name)] = a.Method + " " + a.Path
	}
	for _, e := range b.spec.Endpoints() {
		if !b.used[e.String()] {
			return fmt.Errorf("endpoint %s is neither a table's, a procedure nor left out", e)
		}
	}
	return nil
}
