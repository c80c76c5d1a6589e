package emulator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:generate go run gen_schema.go

// schemaJSON holds the facts extracted from Stripe's OpenAPI spec by
// gen_schema.go: object properties and operation parameters. Embedding 80 KB
// of extracted facts, rather than the 8 MB spec, keeps the stripesql binary
// small.
//
//go:embed schema.json
var schemaJSON []byte

// A schemaField is one top-level property of an object schema.
type schemaField struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // string, integer, boolean, number, object, array, list, id
	Nullable bool     `json:"nullable"`
	Required bool     `json:"required"`
	Expands  []string `json:"expands"` // emulated objects an "id" field can expand into
}

// A schemaOp describes the parameters of one operation.
type schemaOp struct {
	Params   map[string]string `json:"params"`   // top-level name → type (string, integer, boolean, object, array, range)
	Required []string          `json:"required"` // required top-level params
	Leaves   map[string]string `json:"leaves"`   // dotted path ("*" = array element) → integer, number or boolean
}

type schemaFile struct {
	Objects    map[string][]schemaField `json:"objects"`
	Operations map[string]*schemaOp     `json:"operations"`  // "POST /v1/customers/{}"
	EventTypes []string                 `json:"event_types"` // every event type Stripe has
}

// spec returns the parsed schema.json. It is immutable after the first call,
// so one copy is shared by every Emulator.
var spec = sync.OnceValue(func() *schemaFile {
	var s schemaFile
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		panic(fmt.Sprintf("emulator: corrupt schema.json: %v", err))
	}
	return &s
})

// field returns the schema of property name on the object, if any.
func field(objectName, name string) (schemaField, bool) {
	for _, f := range spec().Objects[objectName] {
		if f.Name == name {
			return f, true
		}
	}
	return schemaField{}, false
}

// blank returns an object carrying every property of the object's schema:
// null where Stripe would have nothing, and the zero value Stripe shows for
// non-nullable required booleans, integers, arrays and lists. Resources then
// overwrite what they know.
func blank(objectName string) object {
	o := object{}
	for _, f := range spec().Objects[objectName] {
		o[f.Name] = nil
		if f.Nullable || !f.Required {
			continue
		}
		switch f.Type {
		case "boolean":
			o[f.Name] = false
		case "integer":
			o[f.Name] = int64(0)
		case "array":
			o[f.Name] = []any{}
		case "list":
			o[f.Name] = listObject("", nil)
		}
	}
	if _, ok := o["metadata"]; ok {
		o["metadata"] = map[string]any{}
	}
	if _, ok := o["livemode"]; ok {
		o["livemode"] = false
	}
	o["object"] = objectName
	return o
}

// fillBlanks adds the properties an object lacks, leaving present ones alone.
func fillBlanks(o object, objectName string) {
	for k, v := range blank(objectName) {
		if _, ok := o[k]; !ok {
			o[k] = v
		}
	}
}
