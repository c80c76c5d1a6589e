// Package catalog describes Stripe resources as SQL tables.
//
// Every table is data, not code: its columns and where each one lives in the
// Stripe object, which list filters and Search fields it can push down, and
// which endpoints read and write it. The SQL layer (package tables), the
// pushdown planner and the documentation are all driven by these entries, so
// adding a table means adding an entry. The shape is deliberately close to
// what Stripe's OpenAPI spec can say, so that entries can later be generated.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the SQL type of a column.
type Type int

const (
	// String is a short string: ids, enums, emails (VARCHAR(255)).
	String Type = iota
	// Text is free text of any length.
	Text
	// Integer is a 64-bit integer; Stripe amounts are integers in minor units.
	Integer
	// Float is a double, for the few fractional fields (percentages).
	Float
	// Boolean is TINYINT(1).
	Boolean
	// Timestamp is a Unix time in seconds, presented as a UTC TIMESTAMP.
	Timestamp
	// JSON holds nested objects, lists and metadata.
	JSON
)

func (t Type) String() string {
	switch t {
	case String:
		return "VARCHAR(255)"
	case Text:
		return "TEXT"
	case Integer:
		return "BIGINT"
	case Float:
		return "DOUBLE"
	case Boolean:
		return "BOOLEAN"
	case Timestamp:
		return "TIMESTAMP"
	case JSON:
		return "JSON"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column is one SQL column of a table.
type Column struct {
	// Name is the SQL column name, PascalCase of the Stripe field path
	// unless the connector contract names it otherwise.
	Name string
	Type Type
	// Path is the dot-separated location of the value in the Stripe object
	// ("address.country"). An empty Path marks a write-only column (such as
	// a card's Token), which always reads as NULL.
	Path string
	// Nullable reports whether the value may be NULL.
	Nullable bool
	// CreateParam and UpdateParam are the form parameters that set the
	// column on create and update, in Stripe's bracket notation
	// ("address[country]"); empty means the column cannot be written that way.
	CreateParam string
	UpdateParam string
	// Required marks a column that a create must supply.
	Required bool
	// Ref names the table whose Id this column holds (a foreign key). When
	// the field is expanded, its "id" is used.
	Ref string
	// Polymorphic reports that the field may also hold ids of other kinds
	// of object than Ref's (a charge's source: a card, a bank account, a
	// source): Ref is then not a foreign key, and none is declared.
	Polymorphic bool
	// Expandable reports that Stripe's spec lets the field be expanded
	// (x-expansionResources): only such a field may be sent as expand[],
	// which Stripe refuses for any other.
	Expandable bool
	// Comment documents the column (shown by SHOW FULL COLUMNS).
	Comment string
}

// Op is a set of comparison operators a list filter accepts.
type Op uint8

const (
	// OpEq is exact equality: param=value.
	OpEq Op = 1 << iota
	// OpRange is a range: param[gt|gte|lt|lte]=value.
	OpRange
)

// Filter maps a column to a query parameter of the list endpoint.
type Filter struct {
	Column string
	Param  string
	Ops    Op
	// CaseSensitive reports that Stripe compares the value byte for byte,
	// while the SQL column compares case-insensitively. The planner must
	// then not push an equality, or must re-check rows (it always re-checks).
	CaseSensitive bool
	// Enum, when set, lists the only values Stripe accepts for the
	// parameter (it rejects others with an error): the planner does not
	// send any other value, and leaves that condition to the engine.
	Enum []string
}

// Unpushed is a list parameter of the spec that no Filter uses, and why:
// the planner never sends it, and the engine evaluates the condition.
type Unpushed struct {
	Param  string
	Reason string
}

// Param is one fixed query parameter.
type Param struct{ Key, Value string }

// Parent describes a resource that lives under another one, such as a
// customer's cards at /v1/customers/{customer}/sources, or one whose list
// requires the parent's id as a query parameter, such as subscription
// items (/v1/subscription_items?subscription=…).
type Parent struct {
	// Table is the parent table; Column is the child column that holds the
	// parent's Id; Placeholder is the path segment it fills ("{customer}").
	// For a query-parameter parent, Placeholder only marks the parameter's
	// value in a fan-out over the parent table.
	Table       string
	Column      string
	Placeholder string
	// Param, when set, names the list's query parameter that carries the
	// parent's id ("subscription") instead of a path segment. The parent
	// column is then an ordinary writable column, and objects are
	// retrieved, updated and deleted by their own id alone.
	Param string
}

// InPath reports a parent whose id is a segment of the endpoint paths.
func (p *Parent) InPath() bool { return p != nil && p.Param == "" }

// SearchKind is the type of a Search API field, which decides its operators.
type SearchKind int

const (
	// SearchToken fields support exact match only.
	SearchToken SearchKind = iota
	// SearchString fields support exact match and ~ (substring, 3+ chars).
	SearchString
	// SearchNumeric fields support exact match and comparisons.
	SearchNumeric
)

// SearchField maps a column to a field of the Search query language.
type SearchField struct {
	Column string
	Field  string
	Kind   SearchKind
}

// Search describes a resource's Search API endpoint.
type Search struct {
	Path   string
	Fields []SearchField
	// Metadata reports whether metadata["k"] clauses are supported.
	Metadata bool
}

// TestClockVisibility describes a list endpoint that hides test-clock
// objects (customers, invoices, quotes, subscriptions).
type TestClockVisibility struct {
	// Param is the list parameter that selects one clock's objects.
	Param string
	// ViaTable and ViaParam reach the objects of a list endpoint without
	// a test-clock parameter (invoices): through each clock's objects of
	// ViaTable (its customers), passed as ViaParam (customer=).
	ViaTable, ViaParam string
	// RevealedBy are other list parameters under which Stripe shows
	// test-clock objects anyway (the invoices of one customer).
	RevealedBy []string
}

// TestClocksTable is the catalog table listing test clocks, which test-clock
// visibility scans read.
const TestClocksTable = "TestClocks"

// Table describes one Stripe resource as a SQL table.
type Table struct {
	Name    string
	Aliases []string
	// Object is Stripe's object type ("customer").
	Object  string
	Comment string
	Columns []Column

	// ListPath is the list endpoint; for nested resources it holds the
	// parent's placeholder ("/v1/customers/{customer}/sources").
	ListPath string
	// ListParams are sent on every list call (a source list's object=card).
	ListParams []Param
	Parent     *Parent
	Filters    []Filter
	// Unpushed are the list endpoint's parameters no filter uses.
	Unpushed []Unpushed
	// Singleton marks a one-object endpoint (/v1/balance) read as a
	// one-row table: ListPath is fetched with one GET, no paging.
	Singleton bool
	// Scans are the list calls whose union is the whole table, for list
	// endpoints that hide rows by default (prices: only active ones). Empty
	// means one plain list call. A scan whose parameters the query already
	// pins is replaced by the query's own list call.
	Scans [][]Param
	// Search is nil for resources without a Search API.
	Search *Search
	// TestClocks, when set, says that the list endpoint hides objects on a
	// test clock unless the query names one, so a full read also lists the
	// test clocks and reads each one's objects.
	TestClocks *TestClockVisibility

	// RetrievePath, UpdatePath and DeletePath contain "{id}" (and the
	// parent placeholder for nested resources); an empty path means the
	// operation does not exist in Stripe.
	RetrievePath string
	CreatePath   string
	UpdatePath   string
	DeletePath   string
	// NoDeleteHint tells a user what to do instead when DeletePath is empty.
	NoDeleteHint string
}

// PrimaryKey is the name of every table's primary key column.
const PrimaryKey = "Id"

// Column returns the column with the given name, ignoring case.
func (t *Table) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// ColumnIndex returns the position of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// Filter returns the list filter on the named column, if any.
func (t *Table) Filter(column string) (*Filter, bool) {
	for i := range t.Filters {
		if strings.EqualFold(t.Filters[i].Column, column) {
			return &t.Filters[i], true
		}
	}
	return nil, false
}

// Catalog is a validated set of tables, looked up case-insensitively by
// name or alias.
type Catalog struct {
	tables  []*Table
	byName  map[string]*Table
	actions []*Action
}

// New validates the tables and returns a catalog of them, without actions.
func New(tables ...*Table) (*Catalog, error) {
	return NewWithActions(tables, nil)
}

// NewWithActions validates the tables and the actions and returns a
// catalog of them.
func NewWithActions(tables []*Table, actions []*Action) (*Catalog, error) {
	c := &Catalog{byName: make(map[string]*Table)}
	for _, t := range tables {
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("catalog: table %s: %w", t.Name, err)
		}
		for _, name := range append([]string{t.Name}, t.Aliases...) {
			key := strings.ToLower(name)
			if _, dup := c.byName[key]; dup {
				return nil, fmt.Errorf("catalog: name %q is used twice", name)
			}
			c.byName[key] = t
		}
		c.tables = append(c.tables, t)
	}
	sort.Slice(c.tables, func(i, j int) bool { return c.tables[i].Name < c.tables[j].Name })
	for _, t := range c.tables {
		if t.TestClocks != nil {
			if _, ok := c.byName[strings.ToLower(TestClocksTable)]; !ok {
				return nil, fmt.Errorf("catalog: table %s hides test-clock objects, but there is no %s table", t.Name, TestClocksTable)
			}
		}
		if t.Parent != nil {
			if _, ok := c.byName[strings.ToLower(t.Parent.Table)]; !ok {
				return nil, fmt.Errorf("catalog: table %s: parent table %s is not in the catalog", t.Name, t.Parent.Table)
			}
		}
	}
	if err := c.addActions(actions); err != nil {
		return nil, err
	}
	return c, nil
}

// ByObject finds the table of a Stripe object type ("customer"). Where
// several tables hold one type (Accounts and the Account singleton,
// TaxIds and CustomerTaxIds), it prefers a top-level table with a retrieve
// endpoint, then any other.
func (c *Catalog) ByObject(object string) (*Table, bool) {
	var fallback *Table
	for _, t := range c.tables {
		if t.Object != object {
			continue
		}
		if t.RetrievePath != "" && !t.Parent.InPath() && !t.Singleton && len(t.ListParams) == 0 {
			return t, true
		}
		if fallback == nil {
			fallback = t
		}
	}
	return fallback, fallback != nil
}

// Tables returns the tables sorted by name.
func (c *Catalog) Tables() []*Table { return c.tables }

// Lookup finds a table by name or alias, ignoring case.
func (c *Catalog) Lookup(name string) (*Table, bool) {
	t, ok := c.byName[strings.ToLower(name)]
	return t, ok
}

func (t *Table) validate() error {
	if t.Name == "" || t.Object == "" || t.ListPath == "" {
		return fmt.Errorf("name, object and list path are required")
	}
	pk, ok := t.Column(PrimaryKey)
	if !ok || pk.Type != String || pk.Nullable {
		return fmt.Errorf("needs a non-null String column %s", PrimaryKey)
	}
	seen := map[string]bool{}
	for _, col := range t.Columns {
		key := strings.ToLower(col.Name)
		if seen[key] {
			return fmt.Errorf("column %s is declared twice", col.Name)
		}
		seen[key] = true
	}
	for _, f := range t.Filters {
		if _, ok := t.Column(f.Column); !ok {
			return fmt.Errorf("filter on unknown column %s", f.Column)
		}
	}
	if t.Search != nil {
		for _, f := range t.Search.Fields {
			if _, ok := t.Column(f.Column); !ok {
				return fmt.Errorf("search field on unknown column %s", f.Column)
			}
		}
	}
	if t.Parent != nil {
		if _, ok := t.Column(t.Parent.Column); !ok {
			return fmt.Errorf("parent column %s is not a column", t.Parent.Column)
		}
		if t.Parent.InPath() && !strings.Contains(t.ListPath, t.Parent.Placeholder) {
			return fmt.Errorf("list path %s lacks parent placeholder %s", t.ListPath, t.Parent.Placeholder)
		}
		if t.Parent.Placeholder == "" {
			return fmt.Errorf("parent %s has no placeholder", t.Parent.Table)
		}
	}
	if t.Singleton && (t.Parent != nil || t.RetrievePath != "" || t.CreatePath != "" || t.DeletePath != "") {
		return fmt.Errorf("a singleton is read and updated at its list path only")
	}
	for _, p := range []string{t.RetrievePath, t.UpdatePath, t.DeletePath} {
		if p != "" && !strings.Contains(p, "{id}") && !t.Singleton {
			return fmt.Errorf("path %s lacks {id}", p)
		}
	}
	return nil
}

// Unmapped returns the fields of a Stripe object that no column of the
// table holds, sorted: a top-level field is held by a column at its path,
// or, for a nested object flattened into columns (address.city), each of
// its keys by a column at that path; a JSON column holds everything inside
// its field. The object's "object" field is the table's type. A field
// that Unmapped reports would be lost on the way to SQL.
func (t *Table) Unmapped(obj map[string]any) []string {
	held := map[string]bool{"object": true}
	prefixes := map[string]bool{}
	for _, c := range t.Columns {
		if c.Path == "" {
			continue
		}
		held[c.Path] = true
		if top, _, ok := strings.Cut(c.Path, "."); ok {
			prefixes[top] = true
		}
	}
	var out []string
	for k, v := range obj {
		switch {
		case held[k]:
		case prefixes[k]:
			m, _ := v.(map[string]any)
			for sub := range m {
				if !held[k+"."+sub] {
					out = append(out, k+"."+sub)
				}
			}
		default:
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
