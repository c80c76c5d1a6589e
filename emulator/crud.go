package emulator

import (
	"strings"
)

// readOnly reports fields a create or update request never writes directly.
func readOnly(field string) bool {
	switch field {
	case "id", "object", "created", "livemode", "deleted":
		return true
	}
	return false
}

// create builds, validates and stores a new object of res from params. It
// is the path of POST {path} and of every object the emulator creates as a
// side effect (a charge on confirm, a product from price product_data…),
// so all objects of a type get the same defaults and checks.
func (tx *tx) create(res *resource, parentID string, p params) (object, *apiError) {
	o := tx.newObject(res)
	if res.parent != "" {
		o[res.parent] = parentID
	}
	if res.defaults != nil {
		res.defaults(tx, o)
	}
	tx.copyParams(res, o, p)
	if res.create != nil {
		if err := res.create(tx, o, p); err != nil {
			return nil, err
		}
	}
	tx.insert(o)
	return o, nil
}

// copyParams writes the params that name a property of the object, other
// than the resource's own ones, onto it: hashes merge, empty strings unset.
func (tx *tx) copyParams(res *resource, o object, p params) {
	fields := map[string]any{}
	for k, v := range p {
		if readOnly(k) || res.isOwn(k) || k == "expand" {
			continue
		}
		if _, isField := o[k]; !isField {
			continue
		}
		if k == "currency" {
			if s, ok := v.(string); ok {
				v = strings.ToLower(s)
			}
		}
		fields[k] = v
	}
	merge(o, fields, false)
}

// retrieve serves GET {path}/{id}.
func (tx *tx) retrieve(rt route) (object, *apiError) {
	r, err := tx.find(rt)
	if err != nil {
		return nil, err
	}
	if r.deleted {
		return deletedStub(r.obj), nil
	}
	return r.obj, nil
}

// update serves POST {path}/{id}.
func (tx *tx) update(rt route, p params) (object, *apiError) {
	r, err := tx.findLive(rt)
	if err != nil {
		return nil, err
	}
	res := rt.res
	if res.update != nil {
		if err := res.update(tx, r.obj, p); err != nil {
			return nil, err
		}
	}
	tx.copyParams(res, r.obj, p)
	tx.touch(r)
	return r.obj, nil
}

// remove serves DELETE {path}/{id}.
func (tx *tx) remove(rt route, p params) (any, *apiError) {
	r, err := tx.findLive(rt)
	if err != nil {
		return nil, err
	}
	return rt.res.del(tx, r, p)
}

// act serves POST {path}/{id}/{verb}.
func (tx *tx) act(rt route, p params) (any, *apiError) {
	r, err := tx.findLive(rt)
	if err != nil {
		return nil, err
	}
	out, err := rt.res.actions[rt.verb](tx, r, p)
	if err != nil {
		return nil, err
	}
	tx.touch(r)
	return out, nil
}

// find locates the object a route names, tombstones included. Nested
// objects must belong to the parent named in the path.
func (tx *tx) find(rt route) (*record, *apiError) {
	if rt.parentID != "" {
		if _, err := tx.parent(rt); err != nil {
			return nil, err
		}
	}
	r := tx.s.lookup(rt.res.object, rt.id)
	if r == nil || (rt.parentID != "" && str(r.obj, rt.res.parent) != rt.parentID) {
		return nil, errNoSuch(rt.res.word, rt.id, "id")
	}
	return r, nil
}

// findLive is find without tombstones: a deleted object cannot be changed.
func (tx *tx) findLive(rt route) (*record, *apiError) {
	r, err := tx.find(rt)
	if err != nil {
		return nil, err
	}
	if r.deleted {
		return nil, errNoSuch(rt.res.word, rt.id, "id")
	}
	return r, nil
}

// deletedStub is what Stripe returns for a deleted object.
func deletedStub(o object) object {
	return object{"id": o["id"], "object": o["object"], "deleted": true}
}

// Deletion behaviours shared by several resources.

// deleteRemove removes the object and returns the deleted stub.
func deleteRemove(tx *tx, r *record, _ params) (any, *apiError) {
	tx.s.remove(str(r.obj, "object"), str(r.obj, "id"))
	return deletedStub(r.obj), nil
}

// deleteTombstone keeps a stub that retrieve still returns, as Stripe does
// for customers.
func deleteTombstone(tx *tx, r *record, _ params) (any, *apiError) {
	r.deleted = true
	tx.touch(r)
	return deletedStub(r.obj), nil
}
