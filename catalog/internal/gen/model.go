package main

import "github.com/stripesql/stripesql/internal/stripespec"

// The generator's model mirrors the catalog's types (package catalog is not
// imported, so the generator builds even when the generated files do not).

type colType string // the catalog.Type constant's name

const (
	tString    colType = "String"
	tText      colType = "Text"
	tInteger   colType = "Integer"
	tFloat     colType = "Float"
	tBoolean   colType = "Boolean"
	tTimestamp colType = "Timestamp"
	tJSON      colType = "JSON"
)

type column struct {
	Name        string
	Type        colType
	Path        string
	Nullable    bool
	CreateParam string
	UpdateParam string
	Required    bool
	Ref         string
	Polymorphic bool
	Comment     string

	// the field's expansions (object types), for Ref once tables are known
	expands []string
	// schema is a JSON column's object schema, for columns derived from
	// it (the id of an embedded object, a field a list filter selects by)
	schema *stripespec.Schema
}

type filter struct {
	Column string
	Param  string
	Range  bool
	Enum   []string
}

type unpushed struct {
	Param  string
	Reason string
}

type searchField struct {
	Column, Field, Kind string // Kind: the catalog.SearchKind constant's name
}

type search struct {
	Path   string
	Fields []searchField
}

type parent struct {
	Table, Column, Placeholder, Param string
}

type table struct {
	Name, Object, Comment string
	ListPath              string
	ListParams            [][2]string
	Parent                *parent
	Columns               []*column
	Filters               []filter
	Unpushed              []unpushed
	Search                *search
	RetrievePath          string
	CreatePath            string
	UpdatePath            string
	DeletePath            string
	Singleton             bool

	// specPaths are the spec's templates this table's endpoints came from,
	// by role (list, retrieve, create, update, delete).
	specPaths map[string]string
	// parentPlaceholder is the spec's name of the parent placeholder.
	specParent string
}

func (t *table) column(name string) *column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (t *table) columnAt(path string) *column {
	for _, c := range t.Columns {
		if c.Path == path {
			return c
		}
	}
	return nil
}

type paramKind string // the catalog.ParamKind constant's name

const (
	pText    paramKind = "ParamText"
	pInteger paramKind = "ParamInteger"
	pBoolean paramKind = "ParamBoolean"
	pJSON    paramKind = "ParamJSON"
)

type actionParam struct {
	Name        string
	Form        string
	Placeholder string
	Kind        paramKind
	Required    bool
	Comment     string
}

type action struct {
	Name    string
	Method  string
	Path    string
	Table   string
	Object  string
	Comment string
	Params  []actionParam
	// Result are the columns of the returned object when no table has
	// them (an account link, an ephemeral key): the procedure returns them.
	Result []*column
}

type omission struct {
	Method, Path, Reason string
}
