package emulator

import (
	"slices"
	"strings"
	"time"
)

// A resource is the declarative description of one emulated Stripe
// resource. The generic handlers (create, retrieve, update, delete, list,
// search) read it; the optional hooks hold the little behaviour that is
// specific to the resource.
type resource struct {
	object string // schema name and the objects' "object" value, e.g. "customer"
	path   string // collection path; "{}" marks the parent id, e.g. "/v1/customers/{}/sources"
	prefix string // id prefix, e.g. "cus_"
	idLen  int    // length of the random part of ids
	word   string // how Stripe names the resource in "No such …" errors

	// parent, if set, is the object type whose id the path carries; the
	// child stores it in the field of the same name (card.customer).
	parent string

	filters []filter               // list filters besides limit/starting_after/ending_before/expand
	search  map[string]searchField // searchable fields; nil means no search endpoint

	// testClockHidden hides objects attached to a test clock from lists
	// unless the request names test_clock or customer, as Stripe does.
	testClockHidden bool

	// noUpdate marks a resource without POST {path}/{id} (test clocks);
	// the URL is unrecognized, as on Stripe.
	noUpdate bool

	// own lists create/update params the hooks interpret; the generic code
	// never copies them onto the object.
	own []string

	// defaults fills Stripe's defaults into a new object before the
	// request's params are copied onto it.
	defaults func(tx *tx, o object)
	// create validates a create request and derives the fields that depend
	// on several params or on other objects. It runs after params are
	// copied and before the object is stored; it must not store anything
	// before its validation is done.
	create func(tx *tx, o object, p params) *apiError
	// update validates an update against the object's state and applies
	// the own params; the remaining params are merged afterwards.
	update func(tx *tx, o object, p params) *apiError
	// del implements DELETE; nil means the resource has no DELETE
	// endpoint and the URL is unrecognized, as on Stripe.
	del func(tx *tx, r *record, p params) (any, *apiError)
	// actions are POST {path}/{id}/{verb} endpoints.
	actions map[string]action

	segs []string // path split on "/", computed by newRegistry
}

// An action performs POST {path}/{id}/{verb} and returns the response object.
type action func(tx *tx, r *record, p params) (any, *apiError)

func (res *resource) isOwn(param string) bool { return slices.Contains(res.own, param) }

// template returns the schema.json operation key for a route on res:
// suffix is "", "/{}", "/search" or "/{}/verb".
func (res *resource) template(method, suffix string) string {
	return method + " " + res.path + suffix
}

// A registry is the set of resources one Emulator serves.
type registry struct {
	list     []*resource // in declaration order
	byObject map[string]*resource
	routing  []*resource // longest path first, see match
}

func newRegistry() *registry {
	reg := &registry{byObject: map[string]*resource{}}
	for _, res := range resources() {
		res.segs = strings.Split(strings.Trim(res.path, "/"), "/")
		reg.list = append(reg.list, res)
		reg.byObject[res.object] = res
	}
	reg.routing = slices.Clone(reg.list)
	slices.SortStableFunc(reg.routing, func(a, b *resource) int { return len(b.segs) - len(a.segs) })
	return reg
}

// A route is a request path resolved against the registry.
type route struct {
	res      *resource
	parentID string // the "{}" of a nested path
	id       string // object id, "" for collection routes
	verb     string // action name, or "search"
	suffix   string // operation key suffix, see resource.template
}

// match resolves a path. Longer templates are tried first so that
// /v1/customers/{}/sources is not mistaken for an action on a customer.
func (reg *registry) match(path string) (route, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, res := range reg.routing {
		parentID, ok := matchPrefix(res.segs, segs)
		if !ok {
			continue
		}
		rt := route{res: res, parentID: parentID}
		switch rest := segs[len(res.segs):]; {
		case len(rest) == 0:
		case len(rest) == 1 && rest[0] == "search" && res.search != nil:
			rt.verb, rt.suffix = "search", "/search"
		case len(rest) == 1 && rest[0] != "":
			rt.id, rt.suffix = rest[0], "/{}"
		case len(rest) == 2 && rest[0] != "" && rest[1] != "":
			rt.id, rt.verb, rt.suffix = rest[0], rest[1], "/{}/"+rest[1]
		default:
			continue
		}
		return rt, true
	}
	return route{}, false
}

// matchPrefix reports whether segs starts with the template tpl, and
// returns the segment matched by a "{}".
func matchPrefix(tpl, segs []string) (parentID string, ok bool) {
	if len(segs) < len(tpl) {
		return "", false
	}
	for i, t := range tpl {
		switch {
		case t == "{}" && segs[i] != "":
			parentID = segs[i]
		case t != segs[i]:
			return "", false
		}
	}
	return parentID, true
}

// A tx is one request's access to the store at one instant of the emulator
// clock. All of its methods run under Emulator.mu.
type tx struct {
	s   *store
	reg *registry
	now time.Time
}

func (tx *tx) unix() int64 { return tx.now.Unix() }

func (tx *tx) res(objectName string) *resource { return tx.reg.byObject[objectName] }

// newObject returns a blank object of res with a fresh id and created time.
func (tx *tx) newObject(res *resource) object {
	o := blank(res.object)
	o["id"] = tx.s.newID(res.object, res.prefix, res.idLen)
	if _, ok := o["created"]; ok {
		o["created"] = tx.unix()
	}
	return o
}

func (tx *tx) insert(o object) *record { return tx.s.put(o, tx.now) }

// touch records an in-place change so that search lag applies to it.
func (tx *tx) touch(r *record) { r.touched = tx.now }

// touchObj is touch for callers holding only the object.
func (tx *tx) touchObj(o object) {
	if r := tx.s.get(str(o, "object"), str(o, "id")); r != nil {
		tx.touch(r)
	}
}

// get returns a live object by id, or nil.
func (tx *tx) get(objectName, id string) object { return tx.s.getObj(objectName, id) }

// mustGet returns the object named by param p, or the 400 resource_missing
// error Stripe gives for a reference to a missing object.
func (tx *tx) mustGet(objectName, id, param string) (object, *apiError) {
	if o := tx.get(objectName, id); o != nil {
		return o, nil
	}
	return nil, errNoSuch(tx.res(objectName).word, id, param)
}

// requiredCustomer is the customer named by the parameter customer, which
// the request must have, and its id.
func (tx *tx) requiredCustomer(p params) (string, object, *apiError) {
	id := p.str("customer")
	if id == "" {
		return "", nil, errMissingParam("customer")
	}
	cust, err := tx.mustGet("customer", id, "customer")
	return id, cust, err
}
