package emulator

import (
	"strconv"
	"strings"
)

// params are a request's decoded parameters: nested maps and slices whose
// leaves are strings until coerce converts the integer, number and boolean
// ones. A nil leaf is a posted empty string (Stripe's "unset").
type params map[string]any

// validate checks p against the operation's parameters the way Stripe's API
// layer does before any handler runs: unknown top-level names, hashes where
// scalars belong (and vice versa), leaf types, and required parameters. It
// converts typed leaves in place; when emptyIsNull is set (request bodies),
// empty strings become nil.
func (p params) validate(op *schemaOp, emptyIsNull bool) *apiError {
	for name, v := range p {
		kind, ok := op.Params[name]
		if !ok {
			return errUnknownParam(name)
		}
		if err := checkShape(name, kind, v); err != nil {
			return err
		}
		nv, err := coerce(v, name, name, op.Leaves, emptyIsNull)
		if err != nil {
			return err
		}
		p[name] = nv
	}
	for _, r := range op.Required {
		if _, ok := p[r]; !ok {
			return errMissingParam(r)
		}
	}
	return nil
}

// checkShape rejects a hash sent for a scalar parameter, a scalar sent for a
// hash or array parameter (the empty string excepted: it unsets), and so on.
func checkShape(name, kind string, v any) *apiError {
	switch v.(type) {
	case map[string]any:
		if kind != "object" && kind != "range" {
			return invalidRequest(name, "Invalid %s: must be a %s, not a hash", name, kindWord(kind))
		}
	case []any:
		if kind != "array" {
			return invalidRequest(name, "Invalid %s: must be a %s, not an array", name, kindWord(kind))
		}
	case string:
		if v == "" {
			return nil
		}
		switch kind {
		case "object":
			return invalidRequest(name, "Invalid object")
		case "array":
			return invalidRequest(name, "Invalid array")
		}
	}
	return nil
}

func kindWord(kind string) string {
	if kind == "range" {
		return "integer or hash"
	}
	return kind
}

// coerce converts the string leaves of v whose dotted path is typed in
// leaves. path is the dotted schema path ("items.*.quantity"); param is the
// bracketed name Stripe reports in errors ("items[0][quantity]").
func coerce(v any, path, param string, leaves map[string]string, emptyIsNull bool) (any, *apiError) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			nv, err := coerce(e, path+"."+k, param+"["+k+"]", leaves, emptyIsNull)
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
		return x, nil
	case []any:
		for i, e := range x {
			nv, err := coerce(e, path+".*", param+"["+strconv.Itoa(i)+"]", leaves, emptyIsNull)
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
		return x, nil
	case string:
		if x == "" && emptyIsNull {
			return nil, nil
		}
		return convert(x, leaves[path], param)
	}
	return v, nil
}

// convert parses a form string as the given leaf type.
func convert(s, kind, param string) (any, *apiError) {
	switch kind {
	case "integer":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			e := invalidRequest(param, "Invalid integer: %s", s)
			e.code = "parameter_invalid_integer"
			return nil, e
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, invalidRequest(param, "Invalid decimal: %s", s)
		}
		return f, nil
	case "boolean":
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, invalidRequest(param, "Invalid boolean: %s", s)
	}
	return s, nil
}

// Typed accessors for handler code. They tolerate absent keys.

func (p params) str(k string) string {
	s, _ := p[k].(string)
	return s
}

func (p params) has(k string) bool {
	_, ok := p[k]
	return ok
}

// int returns an integer param; it also accepts the numeric strings of
// params that may be either a timestamp or a word (trial_end=now).
func (p params) int(k string) (int64, bool) {
	if s, ok := p[k].(string); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	return asInt(p[k])
}

func (p params) bool(k string) bool {
	b, _ := p[k].(bool)
	return b
}

func (p params) hash(k string) map[string]any {
	m, _ := p[k].(map[string]any)
	return m
}

func (p params) list(k string) []any {
	a, _ := p[k].([]any)
	return a
}

// strings returns an array parameter's string elements.
func (p params) strings(k string) []string {
	var out []string
	for _, e := range p.list(k) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
