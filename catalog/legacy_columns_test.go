package catalog

// The helpers below keep the hand-written table entries of
// legacy_builtin_test.go short and uniform.
// Each returns a modified copy, so an entry reads as one expression:
//
//	col("Email", String, "email").rw("email")

// col returns a nullable, read-only column.
func col(name string, typ Type, path string) Column {
	return Column{Name: name, Type: typ, Path: path, Nullable: true}
}

// idColumn is every table's primary key.
func idColumn() Column {
	return Column{Name: PrimaryKey, Type: String, Path: "id", Comment: "Stripe object id"}
}

// createdColumn is the creation time every list endpoint sorts by.
func createdColumn() Column {
	return Column{Name: "Created", Type: Timestamp, Path: "created", Comment: "creation time (UTC)"}
}

func livemodeColumn() Column {
	return Column{Name: "Livemode", Type: Boolean, Path: "livemode"}
}

// metadataColumn is the JSON object of string pairs; writing it merges keys.
func metadataColumn() Column {
	return col("Metadata", JSON, "metadata").rw("metadata").doc("key/value pairs; SET merges keys, a null value removes one")
}

func (c Column) rw(param string) Column     { c.CreateParam, c.UpdateParam = param, param; return c }
func (c Column) create(param string) Column { c.CreateParam = param; return c }
func (c Column) update(param string) Column { c.UpdateParam = param; return c }
func (c Column) required() Column           { c.Required = true; return c }
func (c Column) notNull() Column            { c.Nullable = false; return c }
func (c Column) ref(table string) Column    { c.Ref = table; return c }
func (c Column) doc(comment string) Column  { c.Comment = comment; return c }

// address returns the six flattened columns of a Stripe address object at
// path (for example "address"), named prefix+"Line1" and so on, writable
// through param[line1] where param is non-empty.
func address(prefix, path, param string) []Column {
	fields := []struct{ name, field string }{
		{"Line1", "line1"}, {"Line2", "line2"}, {"City", "city"},
		{"State", "state"}, {"PostalCode", "postal_code"}, {"Country", "country"},
	}
	cols := make([]Column, 0, len(fields))
	for _, f := range fields {
		c := col(prefix+f.name, String, path+"."+f.field)
		if param != "" {
			c = c.rw(param + "[" + f.field + "]")
		}
		cols = append(cols, c)
	}
	return cols
}

// columns flattens groups of columns into one slice.
func columns(groups ...any) []Column {
	var out []Column
	for _, g := range groups {
		switch v := g.(type) {
		case Column:
			out = append(out, v)
		case []Column:
			out = append(out, v...)
		}
	}
	return out
}

// eq and rng build list filters.
func eq(column, param string) Filter { return Filter{Column: column, Param: param, Ops: OpEq} }
func rng(column, param string) Filter {
	return Filter{Column: column, Param: param, Ops: OpEq | OpRange}
}

// crud fills the conventional endpoint paths of a top-level resource.
func crud(t *Table, create, update, del bool) *Table {
	t.RetrievePath = t.ListPath + "/{id}"
	if create {
		t.CreatePath = t.ListPath
	}
	if update {
		t.UpdatePath = t.ListPath + "/{id}"
	}
	if del {
		t.DeletePath = t.ListPath + "/{id}"
	}
	return t
}

// sf builds one Search field.
func sf(column, field string, kind SearchKind) SearchField {
	return SearchField{Column: column, Field: field, Kind: kind}
}
