package stripeapi

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Param is one form parameter.
type Param struct{ Key, Value string }

// Params is an ordered list of form parameters. Order is preserved exactly
// so that a request's query string or body is deterministic, which lets tests
// and request logs compare requests as strings.
type Params []Param

// Add appends key=value. An empty value is how Stripe unsets a field.
func (p *Params) Add(key, value string) {
	*p = append(*p, Param{key, value})
}

// Set replaces the value of the first key parameter, keeping its position,
// and removes any later ones; if there is none it appends key=value.
func (p *Params) Set(key, value string) {
	out := (*p)[:0]
	set := false
	for _, kv := range *p {
		if kv.Key == key {
			if set {
				continue
			}
			kv.Value, set = value, true
		}
		out = append(out, kv)
	}
	clear((*p)[len(out):])
	if !set {
		out = append(out, Param{key, value})
	}
	*p = out
}

// Get returns the value of the first key parameter.
func (p Params) Get(key string) (string, bool) {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Encode returns p as application/x-www-form-urlencoded text, in order.
// Brackets in keys are percent-encoded, as Stripe's own clients send them.
func (p Params) Encode() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv.Value))
	}
	return b.String()
}

// AddNested appends v under key using Stripe's bracket nesting:
//
//   - a map with string keys becomes key[k]=... for each entry, recursively,
//     in sorted key order;
//   - a slice or array becomes key[0]=..., key[1]=..., recursively;
//   - an empty map or slice, or a nil value, becomes key= (which unsets the
//     field, or all metadata keys for metadata=);
//   - a bool becomes "true" or "false", an integer or float its decimal form
//     (never exponent notation), a string or json.Number itself, and a
//     time.Time its Unix seconds, Stripe's timestamp format.
//
// Pointers and interfaces are followed. Any other value is formatted with
// fmt.Sprint.
func (p *Params) AddNested(key string, v any) {
	p.addValue(key, reflect.ValueOf(v))
}

var timeType = reflect.TypeFor[time.Time]()

func (p *Params) addValue(key string, v reflect.Value) {
	if !v.IsValid() {
		p.Add(key, "")
		return
	}
	if v.Type() == timeType {
		p.Add(key, strconv.FormatInt(v.Interface().(time.Time).Unix(), 10))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			p.Add(key, "")
			return
		}
		p.addValue(key, v.Elem())
		return
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			break // formatted below
		}
		if v.Len() == 0 {
			p.Add(key, "")
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			p.addValue(key+"["+k.String()+"]", v.MapIndex(k))
		}
		return
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			p.Add(key, string(v.Bytes()))
			return
		}
		if v.Len() == 0 {
			p.Add(key, "")
			return
		}
		for i := range v.Len() {
			p.addValue(key+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
		return
	case reflect.String:
		p.Add(key, v.String())
		return
	case reflect.Bool:
		p.Add(key, strconv.FormatBool(v.Bool()))
		return
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.Add(key, strconv.FormatInt(v.Int(), 10))
		return
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.Add(key, strconv.FormatUint(v.Uint(), 10))
		return
	case reflect.Float32, reflect.Float64:
		p.Add(key, strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits()))
		return
	}
	p.Add(key, fmt.Sprint(v)) // fmt prints the value a reflect.Value holds
}
