package emulator

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"time"
)

// An Emulator is an in-memory, stateful, Stripe-compatible API server. It
// implements http.Handler; all state is guarded by one mutex, so it may
// serve concurrent requests.
type Emulator struct {
	// Immutable after New.
	now       func() time.Time
	searchLag time.Duration
	seed      uint64
	reg       *registry

	lim limiter // latency and rate limits; its own lock

	mu      sync.Mutex
	st      *store
	reqRNG  *rand.Rand         // request ids; separate from st.rng so object ids do not depend on request count
	log     []Request          // every request, in arrival order
	faults  []*faultState      // pending injected faults, in injection order
	replays map[string]*replay // idempotency key → stored response
	events  eventLog           // every change, as Stripe events (events.go)
	evVis   EventVisibility
	evRNG   *rand.Rand // event ids and reorder delays; separate so object ids do not depend on events
}

// An Option configures an Emulator.
type Option func(*Emulator)

// WithClock sets the clock used for created timestamps, state-transition
// times and search lag. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(e *Emulator) { e.now = now }
}

// WithSearchLag makes objects created or updated less than d ago (by the
// emulator clock) invisible to Search, modelling Stripe's eventually
// consistent search index. The default is 0: search sees every write.
func WithSearchLag(d time.Duration) Option {
	return func(e *Emulator) { e.searchLag = d }
}

// WithSeed seeds the generator of object and request ids; emulators with
// the same seed that receive the same requests mint the same ids.
func WithSeed(seed uint64) Option {
	return func(e *Emulator) { e.seed = seed }
}

// defaultSeed makes ids reproducible from run to run unless a test asks
// otherwise.
const defaultSeed = 20240101

// New returns an Emulator with an empty store.
func New(opts ...Option) *Emulator {
	e := &Emulator{now: time.Now, seed: defaultSeed, reg: newRegistry(), replays: map[string]*replay{}}
	for _, o := range opts {
		o(e)
	}
	e.st = newStore(e.seed)
	e.reqRNG = rand.New(rand.NewPCG(e.seed, 0x5265717565737473))
	e.evRNG = rand.New(rand.NewPCG(e.seed, 0x4576656e7473))
	return e
}

// A Request is one entry of the request log.
type Request struct {
	Method         string
	Path           string
	RawQuery       string
	Form           url.Values // the decoded request body (POST and DELETE)
	IdempotencyKey string
	Account        string // the Stripe-Account header
	Status         int    // the response status; 0 if the connection was dropped
	Limited        string // why the rate limits refused it (global-rate, endpoint-rate), or ""
}

// Requests returns a copy of the request log in arrival order, injected
// faults included.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.log))
	for i, r := range e.log {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// ResetRequests empties the request log.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = nil
}

// Put inserts or replaces an object directly, bypassing the API: the
// object's "object" field selects its type and "id" its identity (an id is
// minted if absent). Missing properties are filled in as null, and a
// missing created time is taken from the clock. The object is copied.
// The change is recorded as an event (<object>.created or .updated), with
// no request.
func (e *Emulator) Put(obj map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := normalize(cloneObject(obj)).(map[string]any)
	name := str(o, "object")
	now := e.now()
	if res := e.reg.byObject[name]; res != nil && str(o, "id") == "" {
		o["id"] = e.st.newID(name, res.prefix, res.idLen)
	}
	if o["created"] == nil {
		if _, ok := field(name, "created"); ok {
			o["created"] = now.Unix()
		}
	}
	fillBlanks(o, name)
	e.st.put(o, now)
	e.commitEvents(now, "", "")
}

// Count returns the number of live objects of a type, named either as the
// object ("customer") or as in its URL ("customers").
func (e *Emulator) Count(resource string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, res := range e.reg.list {
		if res.plural() == resource {
			resource = res.object
		}
	}
	return e.st.count(resource)
}

// Get returns a copy of a stored object, or nil; tests use it to inspect
// state without going through HTTP.
func (e *Emulator) Get(objectName, id string) map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.st.peekObj(objectName, id); o != nil {
		return cloneObject(o)
	}
	return nil
}

// IDs returns the ids of the live objects of a type, newest first.
func (e *Emulator) IDs(objectName string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for _, r := range e.st.listed(objectName) {
		ids = append(ids, r.id)
	}
	return ids
}

// normalize turns the integral float64s of decoded JSON into int64s, the
// representation the emulator's own objects use.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case float64:
		if n, ok := asInt(x); ok {
			return n
		}
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
