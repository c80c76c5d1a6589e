package catalog

import (
	"fmt"
	"strings"
)

// ParamKind is the SQL type of a procedure parameter.
type ParamKind int

const (
	// ParamText is a string: an id, an enum value, free text
	// (VARCHAR/LONGTEXT). NULL or '' leaves an optional one out.
	ParamText ParamKind = iota
	// ParamInteger is a BIGINT. NULL or 0 leaves an optional one out.
	ParamInteger
	// ParamBoolean is 'true' or 'false' (1 and 0 work too), taken as text
	// so that NULL can leave it out.
	ParamBoolean
	// ParamJSON is a JSON object or array, given as text, sent as bracket
	// parameters (lines[0][price]=…). Only required non-scalar parameters
	// are procedure parameters.
	ParamJSON
)

func (k ParamKind) String() string {
	switch k {
	case ParamText:
		return "VARCHAR(255)"
	case ParamInteger:
		return "BIGINT"
	case ParamBoolean:
		return "BOOLEAN"
	case ParamJSON:
		return "JSON"
	}
	return fmt.Sprintf("ParamKind(%d)", int(k))
}

// ActionParam is one parameter of an action's stored procedure: a path
// placeholder ({invoice}) or a form parameter (return_url).
type ActionParam struct {
	// Name is the SQL parameter name (InvoiceId, ReturnUrl).
	Name string
	// Placeholder is the path segment the value fills ("{invoice}"); Form
	// is the form (or, for DELETE, query) parameter it is sent as.
	// Exactly one is set.
	Placeholder string
	Form        string
	Kind        ParamKind
	// Required parameters come first, in order; optional ones follow, each
	// adding an overload that takes it (and the ones before it).
	Required bool
	Comment  string
}

// Action is a Stripe endpoint that is not a table's list, retrieve,
// create, update or delete: POST /v1/invoices/{invoice}/finalize and the
// like. Package procedures makes each one a stored procedure.
type Action struct {
	// Name is the procedure's name, VerbResource (FinalizeInvoice).
	Name   string
	Method string // POST or DELETE
	Path   string // the spec's path template, placeholders as in Params
	// Object is the type of object the endpoint returns; Table is the
	// table of that type, whose columns the procedure returns after
	// Success ("" for none).
	Object  string
	Table   string
	Comment string
	Params  []ActionParam
	// Result are the columns of the returned object when no table has
	// them (an account link: Id, Url, …); the procedure returns them
	// after Success. Empty when Table is set.
	Result []Column
}

// RequiredParams returns the parameters every call passes.
func (a *Action) RequiredParams() []ActionParam {
	var out []ActionParam
	for _, p := range a.Params {
		if p.Required {
			out = append(out, p)
		}
	}
	return out
}

// OptionalParams returns the parameters later overloads add, in order.
func (a *Action) OptionalParams() []ActionParam {
	var out []ActionParam
	for _, p := range a.Params {
		if !p.Required {
			out = append(out, p)
		}
	}
	return out
}

func (a *Action) validate() error {
	if a.Name == "" || a.Path == "" || (a.Method != "POST" && a.Method != "DELETE") {
		return fmt.Errorf("name, path and method POST or DELETE are required")
	}
	optional := false
	for _, p := range a.Params {
		if (p.Placeholder == "") == (p.Form == "") {
			return fmt.Errorf("parameter %s needs exactly one of a placeholder and a form name", p.Name)
		}
		if p.Placeholder != "" && !strings.Contains(a.Path, p.Placeholder) {
			return fmt.Errorf("parameter %s: path %s lacks %s", p.Name, a.Path, p.Placeholder)
		}
		if p.Required && optional {
			return fmt.Errorf("required parameter %s after an optional one", p.Name)
		}
		optional = optional || !p.Required
	}
	return nil
}

func (c *Catalog) addActions(actions []*Action) error {
	names := map[string]bool{}
	for _, a := range actions {
		if err := a.validate(); err != nil {
			return fmt.Errorf("catalog: action %s: %w", a.Name, err)
		}
		key := strings.ToLower(a.Name)
		if names[key] {
			return fmt.Errorf("catalog: action name %q is used twice", a.Name)
		}
		names[key] = true
		if a.Table != "" {
			if _, ok := c.Lookup(a.Table); !ok {
				return fmt.Errorf("catalog: action %s returns %s rows, but there is no such table", a.Name, a.Table)
			}
		}
		c.actions = append(c.actions, a)
	}
	return nil
}

// Actions returns the catalog's actions, sorted by name.
func (c *Catalog) Actions() []*Action { return c.actions }

// Omission is a spec endpoint the catalog leaves out on purpose.
type Omission struct {
	Method, Path, Reason string
}

// Omitted returns the spec endpoints that are neither a table's nor an
// action's, each with the reason it is left out.
func Omitted() []Omission { return generatedOmissions() }
