package emulator

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds request bodies; Stripe's own limit is far below it.
const maxBody = 1 << 20

// ServeHTTP answers a Stripe API request. The request is logged, then in
// order: an armed fault may fire, the API key is checked, an idempotent
// replay may answer, and finally the route's handler runs.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var form url.Values
	var formErr error
	if r.Method == http.MethodPost || r.Method == http.MethodDelete {
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err == nil {
			form, formErr = url.ParseQuery(string(raw))
		} else {
			formErr = err
		}
	}
	entry := Request{
		Method:         r.Method,
		Path:           r.URL.Path,
		RawQuery:       r.URL.RawQuery,
		Form:           form,
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Account:        r.Header.Get("Stripe-Account"),
	}
	// The latency comes first, as the network's would: the request reaches
	// the rate limits and the store only after it.
	if !wait(r.Context(), e.latency()) {
		return // the client gave up
	}
	a := e.answer(r, entry, form, formErr)
	if a.fault == FaultDropConnection || a.fault == FaultDropAfterCommit {
		dropConnection(w)
		return
	}
	h := w.Header()
	h.Set("Request-Id", a.requestID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	h.Set("Stripe-Version", APIVersion)
	faultHeaders(a.fault, h)
	if a.limited != "" {
		h.Set("Stripe-Rate-Limited-Reason", a.limited)
	}
	if entry.IdempotencyKey != "" {
		h.Set("Idempotency-Key", entry.IdempotencyKey)
	}
	if a.replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// An answer is what ServeHTTP writes (or, for a dropping fault, does not).
type answer struct {
	requestID string
	fault     FaultKind
	status    int
	body      []byte
	replayed  bool
	limited   string // the rate limit that refused the request, if any
}

// answer logs the request and computes its answer under the lock, so that
// the answer reflects one consistent state; the caller writes it after the
// lock is released.
func (e *Emulator) answer(r *http.Request, entry Request, form url.Values, formErr error) answer {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := answer{requestID: "req_" + randomString(e.reqRNG.IntN, 14)}
	idx := len(e.log)
	e.log = append(e.log, entry)
	if a.limited = e.admit(r.Method, r.URL.Path, time.Now()); a.limited != "" {
		// Refused before anything else, faults included: Stripe's limiter
		// sits in front of the API.
		err := errRateLimit()
		a.status, a.body = err.status, encode(err.body())
		e.log[idx].Status, e.log[idx].Limited = a.status, a.limited
		return a
	}
	a.fault = e.takeFault(r.Method, r.URL.Path)
	if a.fault == FaultDropConnection {
		return a // logged with status 0: nothing was done
	}
	now := e.now()
	a.status, a.body, a.replayed = e.respond(r, now, a.fault, form, formErr, entry)
	// Whatever the request changed, even if it then failed (a declined
	// confirmation keeps its payment intent), becomes events.
	e.commitEvents(now, a.requestID, entry.IdempotencyKey)
	a.status, a.body = afterCommit(a.fault, a.status, a.body)
	if a.fault != FaultDropAfterCommit {
		e.log[idx].Status = a.status
	}
	return a
}

// APIVersion is the Stripe API version whose behaviour and object shapes
// the emulator follows.
const APIVersion = "2026-08-26.dahlia"

// respond computes the status and body of a request, committing its
// effects. It runs with e.mu held.
func (e *Emulator) respond(r *http.Request, now time.Time, kind FaultKind, form url.Values, formErr error, entry Request) (status int, body []byte, replayed bool) {
	if err := faultError(kind); err != nil {
		return err.status, encode(err.body()), false
	}
	if !authorized(r) {
		err := errNoAPIKey()
		return err.status, encode(err.body()), false
	}
	if formErr != nil {
		err := invalidRequest("", "Invalid request body: %v", formErr)
		return err.status, encode(err.body()), false
	}
	if r.Method != http.MethodPost || entry.IdempotencyKey == "" {
		status, body = e.execute(r, now, form)
		return status, body, false
	}
	scope := idempotencyScope(entry.Account, entry.IdempotencyKey)
	fp := fingerprint(r.Method, r.URL.Path, form)
	if prev := e.replays[scope]; prev != nil {
		if prev.fingerprint != fp {
			err := errIdempotencyMismatch(entry.IdempotencyKey)
			return err.status, encode(err.body()), false
		}
		return prev.status, prev.body, true
	}
	status, body = e.execute(r, now, form)
	if storable(status) {
		e.replays[scope] = &replay{fingerprint: fp, status: status, body: body}
	}
	return status, body, false
}

// execute runs a request's handler and encodes its answer.
func (e *Emulator) execute(r *http.Request, now time.Time, form url.Values) (status int, body []byte) {
	e.st.j.reading = r.Method == http.MethodGet
	defer func() { e.st.j.reading = false }()
	out, err := e.dispatch(&tx{s: e.st, reg: e.reg, now: now}, r, form)
	if err != nil {
		return err.status, encode(err.body())
	}
	return http.StatusOK, encode(out)
}

// authorized accepts any non-empty Bearer token or Basic user name; the
// emulator has no notion of keys, only of their presence.
func authorized(r *http.Request) bool {
	if user, _, ok := r.BasicAuth(); ok {
		return user != ""
	}
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	return len(h) > len(prefix) && h[:len(prefix)] == prefix
}

// dispatch routes a request to its generic handler, after validating its
// parameters against the operation's schema.
func (e *Emulator) dispatch(tx *tx, r *http.Request, form url.Values) (any, *apiError) {
	method, path := r.Method, r.URL.Path
	if path == "/v1/events" || strings.HasPrefix(path, "/v1/events/") {
		return e.serveEvents(tx, r)
	}
	rt, ok := e.reg.match(path)
	if !ok {
		return nil, errUnrecognizedURL(method, path)
	}
	res := rt.res
	var handler func(p params) (any, *apiError)
	switch {
	case rt.verb == "search" && method == http.MethodGet:
		handler = func(p params) (any, *apiError) {
			return tx.search(rt, p, path, func(rec *record) bool {
				return e.searchLag <= 0 || tx.now.Sub(rec.touched) >= e.searchLag
			})
		}
	case rt.id == "" && method == http.MethodGet:
		handler = func(p params) (any, *apiError) { return tx.list(rt, p, path) }
	case rt.id == "" && method == http.MethodPost:
		handler = func(p params) (any, *apiError) {
			if rt.parentID != "" {
				if _, err := tx.parent(rt); err != nil {
					return nil, err
				}
			}
			return tx.create(res, rt.parentID, p)
		}
	case rt.verb == "" && method == http.MethodGet:
		handler = func(p params) (any, *apiError) { return tx.retrieve(rt) }
	case rt.verb == "" && method == http.MethodPost && !res.noUpdate:
		handler = func(p params) (any, *apiError) { return tx.update(rt, p) }
	case rt.verb == "" && method == http.MethodDelete && res.del != nil:
		handler = func(p params) (any, *apiError) { return tx.remove(rt, p) }
	case rt.verb != "" && method == http.MethodPost && res.actions[rt.verb] != nil:
		handler = func(p params) (any, *apiError) { return tx.act(rt, p) }
	}
	op := spec().Operations[res.template(method, rt.suffix)]
	if handler == nil || op == nil {
		return nil, errUnrecognizedURL(method, path)
	}

	p := params(parseForm(r.URL.Query()))
	isBody := method != http.MethodGet
	if isBody {
		for k, v := range parseForm(form) {
			p[k] = v
		}
	}
	if err := p.validate(op, isBody); err != nil {
		return nil, err
	}
	paths := expandPaths(p)
	isList := (rt.id == "" && method == http.MethodGet) || rt.verb == "search"
	if err := checkExpand(res.object, paths, isList); err != nil {
		return nil, err // before the handler: a bad expand changes nothing
	}
	out, err := handler(p)
	if err != nil {
		return nil, err
	}
	return tx.expandResponse(out, paths), nil
}
