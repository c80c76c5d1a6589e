package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Events.
//
// Every change to a stored object is recorded as a Stripe event, whatever
// made it: an API request (create, update, delete, action), a side effect
// of one (the charge a payment intent's confirmation creates), a test
// clock's advance, or a Go-side helper such as Put. The store's journal is
// the one place changes are seen: every path that hands out an object for
// changing (store.lookup, live, put, remove) records the object's state
// before its first change, and commitEvents compares it with the state
// after, so no write path can forget to emit its event.
//
// Events are named as Stripe names them: <object>.created, .updated (with
// data.previous_attributes) and .deleted where Stripe has those types,
// nested objects under their parent (customer.source.*,
// customer.subscription.*), and the domain events of the state transitions
// the emulator performs (invoice.finalized, payment_intent.succeeded,
// charge.refunded, …). A change for which Stripe has no event type records
// nothing, as on Stripe: a payment intent's, quote's or invoice item's plain
// update, a payment method's or account's creation.
//
// Seeding records no events: Seed's bulk objects (their snapshots would
// cost the memory lazy seeding saves) and NewDemo's history (dated
// 2024–2025, older than Stripe's 30-day event window anyway).

// defaultEventRetention is how long Stripe lists events.
const defaultEventRetention = 30 * 24 * time.Hour

// EventVisibility controls when recorded events can be listed, modelling
// what Stripe's event stream may do: an event can appear in
// GET /v1/events a while after it happened, after events that happened
// later, and disappears after the retention.
type EventVisibility struct {
	// Delay makes every event listable only Delay after it happened (by
	// the emulator clock).
	Delay time.Duration
	// Reorder adds to each event's delay a random extra in [0, Reorder],
	// drawn per event, so that a later event can become listable before an
	// earlier one.
	Reorder time.Duration
	// DelayFunc, if set, decides each event's delay instead of Delay and
	// Reorder. It runs under the emulator's lock and must not call it or
	// keep or change ev.Object.
	DelayFunc func(ev Event) time.Duration
	// Retention is how long events are kept: older ones are neither listed
	// nor retrievable, and are dropped. 0 means Stripe's 30 days.
	Retention time.Duration
	// MaxEvents, if positive, bounds the events kept: beyond it the oldest
	// are dropped, as if past the retention. Stripe has no such bound; it
	// caps the memory of a long-running emulator taking many writes (an
	// event takes about as much as its object's JSON, see
	// BenchmarkEventMemory).
	MaxEvents int
}

// WithEventDelay makes every event listable only d after it happened.
func WithEventDelay(d time.Duration) Option {
	return func(e *Emulator) { e.evVis.Delay = d }
}

// WithEventReorder adds a random extra delay in [0, d] to each event, so
// that events can become listable out of order.
func WithEventReorder(d time.Duration) Option {
	return func(e *Emulator) { e.evVis.Reorder = d }
}

// WithEventRetention sets how long events are kept (default 30 days, as
// Stripe).
func WithEventRetention(d time.Duration) Option {
	return func(e *Emulator) { e.evVis.Retention = d }
}

// WithMaxEvents bounds the number of events kept (default: no bound but
// the retention); beyond it the oldest are dropped.
func WithMaxEvents(n int) Option {
	return func(e *Emulator) { e.evVis.MaxEvents = n }
}

// SetEventVisibility changes the event knobs at run time. Delays apply to
// events recorded afterwards; the retention applies at once.
func (e *Emulator) SetEventVisibility(v EventVisibility) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evVis = v
	e.pruneEvents(e.now())
}

// EventVisibility returns the current event knobs.
func (e *Emulator) EventVisibility() EventVisibility {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.evVis
}

func (e *Emulator) retention() time.Duration {
	if e.evVis.Retention > 0 {
		return e.evVis.Retention
	}
	return defaultEventRetention
}

// An Event is one recorded event, as tests read it from Events.
type Event struct {
	ID      string
	Type    string
	Created int64 // Unix seconds, as the API shows it
	// At is when the event happened and VisibleAt when it becomes
	// listable, by the emulator clock.
	At, VisibleAt time.Time
	// Object is data.object: the object after the change (for a deletion,
	// its last state, with "deleted": true where the object is gone).
	Object map[string]any
	// PreviousAttributes is data.previous_attributes on events of an
	// update: the old values of the top-level fields that changed; nil
	// otherwise.
	PreviousAttributes map[string]any
	// RequestID and IdempotencyKey are the request that made the change;
	// empty for changes made by a Go-side helper.
	RequestID, IdempotencyKey string
}

// Events returns the retained events, in the order they happened (oldest
// first), whether or not they are listable yet.
func (e *Emulator) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneEvents(e.now())
	out := make([]Event, 0, len(e.events.list))
	for _, ev := range e.events.inOrder() {
		out = append(out, ev.public())
	}
	return out
}

// EventCount returns the number of retained events.
func (e *Emulator) EventCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneEvents(e.now())
	return len(e.events.list)
}

// event is a stored event. The object snapshots are kept as compact JSON:
// a tenth of the memory of the maps they come from.
type event struct {
	id, typ            string
	created            int64
	at, visible        time.Time
	seq                uint64
	requestID, idemKey string
	object, prev       json.RawMessage // prev is nil unless the event is an update's
}

func (ev *event) public() Event {
	out := Event{ID: ev.id, Type: ev.typ, Created: ev.created, At: ev.at, VisibleAt: ev.visible,
		RequestID: ev.requestID, IdempotencyKey: ev.idemKey, Object: decodeObject(ev.object)}
	if ev.prev != nil {
		out.PreviousAttributes = decodeObject(ev.prev)
	}
	return out
}

func decodeObject(raw json.RawMessage) map[string]any {
	var o map[string]any
	if err := json.Unmarshal(raw, &o); err != nil {
		panic("emulator: corrupt event snapshot: " + err.Error()) // written by compactJSON
	}
	return normalize(o).(map[string]any)
}

// render returns the event as the API shows it.
func (ev *event) render() object {
	data := object{"object": ev.object}
	if ev.prev != nil {
		data["previous_attributes"] = ev.prev
	}
	return object{
		"id": ev.id, "object": "event", "api_version": APIVersion, "created": ev.created,
		"data": data, "livemode": false, "pending_webhooks": int64(0),
		"request": object{"id": nullIfEmpty(ev.requestID), "idempotency_key": nullIfEmpty(ev.idemKey)},
		"type":    ev.typ,
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// eventLog holds the retained events sorted by (created, seq), oldest
// first: the reverse of list order, as a table's order is.
type eventLog struct {
	list []*event
	byID map[string]*event
	seq  uint64
}

func olderEvent(a, b *event) int {
	if c := cmp.Compare(a.created, b.created); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func (l *eventLog) add(ev *event) {
	if l.byID == nil {
		l.byID = map[string]*event{}
	}
	l.seq++
	ev.seq = l.seq
	l.byID[ev.id] = ev
	if n := len(l.list); n == 0 || olderEvent(l.list[n-1], ev) < 0 {
		l.list = append(l.list, ev) // the usual case: the clock does not go back
		return
	}
	i, _ := slices.BinarySearchFunc(l.list, ev, olderEvent)
	l.list = slices.Insert(l.list, i, ev)
}

// index returns ev's position in list.
func (l *eventLog) index(ev *event) int {
	i, _ := slices.BinarySearchFunc(l.list, ev, olderEvent)
	return i
}

// createdFrom returns the index of the first event created at or after sec.
func (l *eventLog) createdFrom(sec int64) int {
	i, _ := slices.BinarySearchFunc(l.list, sec, func(ev *event, sec int64) int { return cmp.Compare(ev.created, sec) })
	return i
}

// inOrder returns the events in the order they happened.
func (l *eventLog) inOrder() []*event {
	out := slices.Clone(l.list)
	slices.SortFunc(out, func(a, b *event) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// expired reports whether ev is past the retention at now.
func expired(ev *event, now time.Time, retention time.Duration) bool {
	return !now.Before(ev.at.Add(retention))
}

// pruneEvents drops the events past the retention or beyond MaxEvents.
func (e *Emulator) pruneEvents(now time.Time) {
	e.events.prune(now, e.retention(), e.evVis.MaxEvents)
}

// prune drops the expired events at the old end of the list, and the
// oldest beyond max (if positive). An expired event behind a younger one
// (a clock that went back) is dropped later; readers check expired
// themselves.
func (l *eventLog) prune(now time.Time, retention time.Duration, max int) {
	n := 0
	for n < len(l.list) && (expired(l.list[n], now, retention) || (max > 0 && len(l.list)-n > max)) {
		delete(l.byID, l.list[n].id)
		l.list[n] = nil
		n++
	}
	if n > 0 {
		l.list = l.list[n:]
	}
}

// journal records the records handed out for changing since the last
// commit, with their state before the first change.
type journal struct {
	changes []*change
	byRec   map[*record]*change
	// reading is set while a GET runs: GETs change nothing, so the
	// objects they look up are not snapshotted (a retrieve would
	// otherwise copy its object). Creations and removals are recorded
	// even then.
	reading bool
}

type change struct {
	r       *record
	isNew   bool     // stored since the last commit
	wasLive bool     // existed, not as a tombstone, before
	before  object   // the object before the first change (nil if isNew)
	removed bool     // store.remove took the record out
	notes   []string // event types an action asks for that no field change shows
}

func (j *journal) get(r *record) *change {
	if j.byRec == nil {
		j.byRec = map[*record]*change{}
	}
	c := j.byRec[r]
	if c == nil {
		c = &change{r: r}
		j.byRec[r] = c
		j.changes = append(j.changes, c)
	}
	return c
}

// track snapshots a materialized record about to be handed out.
func (j *journal) track(r *record) {
	if j.reading || j.byRec[r] != nil {
		return
	}
	c := j.get(r)
	c.wasLive = !r.deleted
	c.before = cloneObject(r.obj)
}

// created records a record new to the store.
func (j *journal) created(r *record) { j.get(r).isNew = true }

// removed records a record store.remove takes out.
func (j *journal) removed(r *record) {
	j.snapshot(r)
	j.byRec[r].removed = true
}

// note asks for an event of type typ on r's object at the next commit.
func (j *journal) note(r *record, typ string) {
	j.snapshot(r)
	c := j.byRec[r]
	c.notes = append(c.notes, typ)
}

// snapshot is track even while reading.
func (j *journal) snapshot(r *record) {
	reading := j.reading
	j.reading = false
	j.track(r)
	j.reading = reading
}

// take returns the changes since the last commit and starts afresh.
func (j *journal) take() []*change {
	out := j.changes
	j.changes, j.byRec = nil, nil
	return out
}

// note asks for an event that no field change shows (invoice.sent).
func (tx *tx) note(r *record, typ string) { tx.s.j.note(r, typ) }

// commitEvents records the events of the changes made since the last
// commit, as made at now by the request reqID (empty for a Go-side
// helper). It runs with e.mu held.
func (e *Emulator) commitEvents(now time.Time, reqID, idemKey string) {
	changes := e.st.j.take()
	for _, c := range changes {
		var objJSON, prevJSON json.RawMessage // shared by the change's events
		for _, p := range eventsOf(c) {
			ev := &event{id: e.newEventID(), typ: p.typ, created: now.Unix(), at: now, requestID: reqID, idemKey: idemKey}
			switch {
			case p.own:
				ev.object = compactJSON(p.obj)
			case objJSON != nil:
				ev.object = objJSON
			default:
				objJSON = compactJSON(p.obj)
				ev.object = objJSON
			}
			if p.prev != nil {
				if prevJSON == nil {
					prevJSON = compactJSON(p.prev)
				}
				ev.prev = prevJSON
			}
			ev.visible = now.Add(e.eventDelay(ev, p))
			e.events.add(ev)
		}
	}
	e.pruneEvents(now)
}

func (e *Emulator) newEventID() string {
	for {
		id := "evt_" + randomString(e.evRNG.IntN, 24)
		if e.events.byID[id] == nil {
			return id
		}
	}
}

func (e *Emulator) eventDelay(ev *event, p pendingEvent) time.Duration {
	v := e.evVis
	if v.DelayFunc != nil {
		pub := Event{ID: ev.id, Type: ev.typ, Created: ev.created, At: ev.at, Object: p.obj, PreviousAttributes: p.prev,
			RequestID: ev.requestID, IdempotencyKey: ev.idemKey}
		return max(v.DelayFunc(pub), 0)
	}
	d := max(v.Delay, 0)
	if v.Reorder > 0 {
		d += time.Duration(e.evRNG.Int64N(int64(v.Reorder) + 1))
	}
	return d
}

// compactJSON renders an object as compact JSON with sorted keys.
func compactJSON(o object) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, encode(o)); err != nil {
		panic("emulator: cannot compact an object: " + err.Error()) // encode writes valid JSON
	}
	return slices.Clip(b.Bytes())
}

// A pendingEvent is an event commitEvents is about to record.
type pendingEvent struct {
	typ  string
	obj  object
	own  bool // obj is this event's own variant of the change's object
	prev object
}

// eventTypes is the set of event types Stripe has (schema.json).
var eventTypes = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, t := range spec().EventTypes {
		m[t] = true
	}
	return m
})

// eventPrefix is the part of an object's event types before the action:
// nested objects take their parent's (customer.source.created).
func eventPrefix(o object) string {
	switch name := str(o, "object"); name {
	case "card", "bank_account", "source":
		return "customer.source"
	case "subscription":
		return "customer.subscription"
	default:
		return name
	}
}

// eventsOf returns the events of one record's change.
func eventsOf(c *change) []pendingEvent {
	r := c.r
	after := r.obj
	live := !c.removed && !r.deleted
	prefix := eventPrefix(after)
	var types []string
	var prev object
	switch {
	case (c.isNew || !c.wasLive) && live:
		types = createdEvents(prefix, after)
	case (c.isNew || !c.wasLive) && !live:
		// Created and gone since the last commit, or a tombstone read.
	case !live:
		types = []string{prefix + ".deleted"}
		after = cloneObject(after)
		after["deleted"] = true
	default:
		prev = changedFields(c.before, after)
		if len(prev) > 0 {
			types = updatedEvents(prefix, c.before, after, prev)
		} else {
			prev = nil
		}
	}
	types = append(types, c.notes...)
	var out []pendingEvent
	for _, t := range types {
		if !eventTypes()[t] || slices.ContainsFunc(out, func(p pendingEvent) bool { return p.typ == t }) {
			continue // Stripe has no such event (or it is already there)
		}
		p := pendingEvent{typ: t, obj: after, prev: prev}
		if t == "test_helpers.test_clock.advancing" {
			// The emulator's advance is instantaneous; Stripe's clock is
			// first seen advancing towards the new time, then ready.
			p.obj, p.own = cloneObject(after), true
			p.obj["status"] = "advancing"
		}
		out = append(out, p)
	}
	return out
}

// changedFields returns the old values of the top-level fields that differ.
func changedFields(before, after object) object {
	prev := object{}
	for k, old := range before {
		if nv, ok := after[k]; !ok || !sameValue(old, nv) {
			prev[k] = old
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			prev[k] = nil
		}
	}
	return prev
}

// sameValue reports whether two object values render the same: numbers
// compare by value whatever their Go type (a hook may store an int where
// the object held an int64), so that only real changes make events.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case nil, string, bool:
		return a == b
	}
	if i, ok := asInt(a); ok {
		j, ok := asInt(b)
		return ok && i == j
	}
	if f, ok := asFloat(a); ok {
		g, ok := asFloat(b)
		return ok && f == g
	}
	return reflect.DeepEqual(a, b)
}

// createdEvents names the events of a new object: <prefix>.created where
// Stripe has it, and the domain events of the state it was created in.
func createdEvents(prefix string, o object) []string {
	types := []string{prefix + ".created"}
	status := str(o, "status")
	switch str(o, "object") {
	case "charge":
		types = append(types, "charge."+status) // succeeded, failed, pending
	case "payment_intent":
		types = append(types, paymentIntentEvents(object{}, o)...)
	case "invoice":
		types = append(types, invoiceEvents(object{"status": "draft"}, o)...)
	case "payment_method":
		if o["customer"] != nil {
			types = append(types, "payment_method.attached")
		}
	}
	return types
}

// updatedEvents names the events of a change: the domain events of the
// transition, then <prefix>.updated where Stripe sends it.
func updatedEvents(prefix string, before, after, prev object) []string {
	var types []string
	updated := true
	switch str(after, "object") {
	case "invoice":
		types = invoiceEvents(before, after)
	case "payment_intent":
		types = paymentIntentEvents(before, after)
	case "charge":
		if before["captured"] != true && after["captured"] == true && str(before, "status") == "succeeded" {
			types = append(types, "charge.captured")
		}
		if intOf(after, "amount_refunded") > intOf(before, "amount_refunded") {
			types = append(types, "charge.refunded")
		}
		if s := str(after, "status"); s != str(before, "status") {
			types = append(types, "charge."+s)
		}
		updated = len(types) == 0 // Stripe's charge.updated is for other changes
	case "refund":
		if s := str(after, "status"); s != str(before, "status") && s == "failed" {
			types = append(types, "refund.failed")
		}
	case "subscription":
		switch s, was := str(after, "status"), str(before, "status"); {
		case s != was && isEnded(after):
			return []string{"customer.subscription.deleted"}
		case s != was && s == "paused":
			types = append(types, "customer.subscription.paused")
		case s != was && was == "paused":
			types = append(types, "customer.subscription.resumed")
		}
	case "payment_method":
		switch {
		case before["customer"] == nil && after["customer"] != nil:
			types = append(types, "payment_method.attached")
		case before["customer"] != nil && after["customer"] == nil:
			types = append(types, "payment_method.detached")
		}
		_, customerChanged := prev["customer"]
		updated = len(prev) > 1 || !customerChanged
	case "quote":
		if s := str(after, "status"); s != str(before, "status") {
			types = append(types, map[string]string{"open": "quote.finalized", "accepted": "quote.accepted", "canceled": "quote.canceled"}[s])
		}
	case "test_helpers.test_clock":
		if !sameValue(before["frozen_time"], after["frozen_time"]) {
			types = append(types, "test_helpers.test_clock.advancing", "test_helpers.test_clock.ready")
		}
	}
	if updated {
		types = append(types, prefix+".updated")
	}
	return types
}

func invoiceEvents(before, after object) []string {
	s := str(after, "status")
	if s == str(before, "status") {
		return nil
	}
	var types []string
	if str(before, "status") == "draft" && s != "draft" {
		types = append(types, "invoice.finalized")
	}
	switch s {
	case "paid":
		types = append(types, "invoice.paid")
		if intOf(after, "amount_paid_off_stripe") == 0 { // not paid out of band
			types = append(types, "invoice.payment_succeeded")
		}
	case "void":
		types = append(types, "invoice.voided")
	case "uncollectible":
		types = append(types, "invoice.marked_uncollectible")
	}
	return types
}

func paymentIntentEvents(before, after object) []string {
	s := str(after, "status")
	var types []string
	if after["last_payment_error"] != nil && !sameValue(before["last_payment_error"], after["last_payment_error"]) {
		types = append(types, "payment_intent.payment_failed")
	}
	if s == str(before, "status") {
		return types
	}
	switch s {
	case "succeeded", "canceled", "processing", "requires_action":
		types = append(types, "payment_intent."+s)
	case "requires_capture":
		types = append(types, "payment_intent.amount_capturable_updated")
	}
	return types
}
