package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/stripeapi"
)

// Following. Every Interval the follower lists the events created at or
// after the cursor, newest first, page by page, and applies each one not
// already applied. Events become visible late and out of order, so the
// cursor trails the poll by the overlap: each poll re-reads the last
// Overlap of the stream, and the ids of the events applied within that
// window are kept (in the store) to skip them. Each page's objects, the
// ids of its events and the tables' counters are written in one Pebble
// batch, and the cursor with the pruning of old ids in another after the
// last page: a SIGKILL at any point leaves the store with every event
// either applied and recorded, or neither, and the cursor never past an
// event not applied, so a restart applies none twice and loses none.

// pollPath is Stripe's event list.
const pollPath = "/v1/events"

// pollPage is the number of events applied per batch (one list page).
const pollPage = 100

// Most polls are short: they re-read only the last shortOverlap of the
// stream, where nearly every late event shows up, so a poll costs a page or
// two even when the account makes many changes a minute, and the lag stays
// near the interval. Every Overlap/2 a full poll re-reads from the cursor
// (the whole overlap) for the rare event later than that, and only a full
// poll moves the cursor.
const shortOverlap = 10 * time.Second

func (m *Mirror) follow(ctx context.Context) {
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	for {
		if len(m.order) > 0 {
			if err := m.poll(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("mirror: polling events failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.kick:
		}
	}
}

// CaughtUp blocks until every event visible at the call has been applied:
// until a full poll that started after the call has succeeded.
func (m *Mirror) CaughtUp(ctx context.Context) error {
	if len(m.order) == 0 {
		return nil
	}
	at := m.now()
	for {
		m.mu.Lock()
		done, wait := !m.full.Before(at), m.polled
		if !done {
			m.wantFull = true
		}
		m.mu.Unlock()
		if done {
			return nil
		}
		select {
		case m.kick <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait:
		}
	}
}

// event is the part of a Stripe event the mirror uses.
type event struct {
	id      string
	typ     string
	created int64
	object  stripeapi.Object
}

func parseEvent(o stripeapi.Object) (event, error) {
	ev := event{id: o.ID()}
	ev.typ, _ = o["type"].(string)
	if n, ok := o["created"].(json.Number); ok {
		ev.created, _ = strconv.ParseInt(string(n), 10, 64)
	}
	data, _ := o["data"].(map[string]any)
	obj, _ := data["object"].(map[string]any)
	if ev.id == "" || ev.typ == "" || ev.created == 0 || obj == nil {
		return ev, fmt.Errorf("mirror: malformed event %q (type %q)", ev.id, ev.typ)
	}
	ev.object = obj
	return ev, nil
}

// keepsObject lists the *.deleted event types after which the object still
// exists and is listed: a subscription "deleted" is cancelled, and the
// Subscriptions table lists cancelled ones (status=all).
var keepsObject = map[string]bool{"customer.subscription.deleted": true}

func (ev event) deletes() bool {
	if d, _ := ev.object["deleted"].(bool); d {
		return true
	}
	return strings.HasSuffix(ev.typ, ".deleted") && !keepsObject[ev.typ]
}

// tablesOf returns the mirrored tables an object belongs to: those of its
// object type, except that a nested table only takes objects that name
// their parent (a card of a customer, not of a connected account).
func (m *Mirror) tablesOf(obj stripeapi.Object) []*table {
	typ, _ := obj["object"].(string)
	var out []*table
	for _, t := range m.byObject[typ] {
		if t.parentPath != "" {
			v, ok := lookup(obj, t.parentPath)
			if !ok || v == nil || v == "" {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// poll reads the event stream from the cursor and applies what is new.
func (m *Mirror) poll(ctx context.Context) error {
	start := m.now()
	m.mu.Lock()
	cursor := m.cursor
	full := m.wantFull || m.full.IsZero() || start.Sub(m.full) >= m.cfg.Overlap/2
	m.wantFull = false
	m.mu.Unlock()
	if cursor == 0 {
		cursor = start.Add(-m.cfg.Overlap).Unix()
	}
	from := cursor
	if !full {
		from = max(cursor, start.Add(-min(shortOverlap, m.cfg.Overlap)).Unix())
	}
	if start.Unix()-cursor > int64(m.cfg.Retention/time.Second) {
		return m.rebackfill(start, fmt.Sprintf("the events cursor (%s) is older than Stripe's event retention (%s)",
			time.Unix(cursor, 0).UTC().Format(time.RFC3339), m.cfg.Retention))
	}
	if m.cfg.Client == nil {
		return errors.New("mirror: no Stripe client to poll events with")
	}
	// The skew is read from the Date of the page whose round trip was the
	// shortest, timed around that request alone: a poll's whole length
	// includes applying events (re-fetches, a slow disk), and a long
	// catch-up would read as clock skew and never advance the cursor.
	var (
		info     stripeapi.CallInfo
		pageSent time.Time
		pages    int
		clockAt  serverClock
	)
	it := m.cfg.Client.List(ctx, pollPath, stripeapi.Params{{Key: "created[gte]", Value: strconv.FormatInt(from, 10)}},
		stripeapi.WithCallInfo(&info), stripeapi.WithBeforePage(func() error { pageSent = m.clock(); return nil }))
	fetched := func() {
		if p := it.Pages(); p != pages {
			pages = p
			clockAt.observe(info.ServerTime, pageSent, m.clock())
		}
	}
	page := make([]event, 0, pollPage)
	for it.Next() {
		fetched()
		ev, err := parseEvent(it.Object())
		if err != nil {
			m.log.Warn("mirror: event skipped", "err", err)
			continue
		}
		page = append(page, ev)
		if len(page) == pollPage {
			if err := m.applyEvents(ctx, page); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	fetched()
	skewed := clockAt.ok && m.observeServerTime(clockAt.server, clockAt.sent, clockAt.got)
	if err := it.Err(); err != nil {
		if isRetentionError(err) {
			return m.rebackfill(start, "Stripe no longer serves the events after the cursor: "+err.Error())
		}
		return fmt.Errorf("mirror: list events: %w", err)
	}
	if err := m.applyEvents(ctx, page); err != nil {
		return err
	}
	if skewed {
		return nil // this poll's window was in the wrong clock: the next is full
	}
	if !full {
		m.mu.Lock()
		m.followed = start
		m.mu.Unlock()
		return nil
	}
	return m.advance(start, cursor)
}

// maxClockRoundTrip is the longest request whose Date is used to measure
// the skew: the Date's whole seconds and half of this round trip stay
// within skewSlack.
const maxClockRoundTrip = time.Second

// serverClock keeps the Date of the response with the shortest round trip
// of a poll, and the local instants its request was sent and answered.
type serverClock struct {
	server, sent, got time.Time
	ok                bool
}

func (c *serverClock) observe(server, sent, got time.Time) {
	rt := got.Sub(sent)
	if server.IsZero() || sent.IsZero() || rt < 0 || rt > maxClockRoundTrip || (c.ok && rt > c.got.Sub(c.sent)) {
		return
	}
	*c = serverClock{server: server, sent: sent, got: got, ok: true}
}

// isRetentionError reports Stripe's refusal of a created range older than
// its event retention, or of a page cursor (an event id) it no longer has.
func isRetentionError(err error) bool {
	var e *stripeapi.Error
	if !errors.As(err, &e) || (e.HTTPStatus != http.StatusBadRequest && e.HTTPStatus != http.StatusNotFound) {
		return false
	}
	msg := strings.ToLower(e.Message)
	return strings.HasPrefix(e.Param, "created") || e.Param == "starting_after" || e.Param == "ending_before" ||
		strings.Contains(msg, "retention") || strings.Contains(msg, "30 days") || strings.Contains(msg, "too old")
}

// advance moves the cursor to the poll's start minus the overlap and
// forgets the applied ids older than it, in one batch.
func (m *Mirror) advance(start time.Time, cursor int64) error {
	next := max(cursor, start.Add(-m.cfg.Overlap).Unix())
	m.wmu.Lock()
	defer m.wmu.Unlock()
	x := m.newTxn()
	if err := x.b.Set(cursorKey, int64Bytes(next), nil); err != nil {
		x.abort()
		return err
	}
	prefix := []byte{kindApplied}
	it, err := x.b.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		x.abort()
		return err
	}
	var old [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		if c, ok := bytesInt64(it.Value()); ok && c < next {
			old = append(old, append([]byte(nil), it.Key()...))
		}
	}
	if err := it.Close(); err != nil {
		x.abort()
		return err
	}
	for _, k := range old {
		if err := x.b.Delete(k, nil); err != nil {
			x.abort()
			return err
		}
	}
	if err := x.commit(true); err != nil {
		return err
	}
	m.mu.Lock()
	m.cursor = next
	m.followed, m.full = start, start
	// A CaughtUp waiting on this poll asks again if it started too early.
	m.wantFull = false
	close(m.polled)
	m.polled = make(chan struct{})
	m.mu.Unlock()
	return nil
}

// applyEvents applies a page of events in one batch. An event whose
// snapshot conflicts with a stored one of the same second is applied by
// re-fetching its object, and only recorded as applied with that.
func (m *Mirror) applyEvents(ctx context.Context, evs []event) error {
	if len(evs) == 0 {
		return nil
	}
	type conflict struct {
		t   *table
		obj stripeapi.Object
		ev  event
	}
	var conflicts []conflict
	m.wmu.Lock()
	x := m.newTxn()
	for _, ev := range evs {
		key := appliedKey(ev.id)
		if _, seen, err := x.get(key); err != nil || seen {
			if err != nil {
				x.abort()
				m.wmu.Unlock()
				return err
			}
			continue
		}
		pending := false
		tables := m.tablesOf(ev.object)
		if ev.object.ID() == "" {
			// A preview, such as invoice.upcoming's invoice, is no
			// object of any table.
			tables = nil
		}
		h := compare
		if strings.HasSuffix(ev.typ, ".created") {
			h = creation
		}
		for _, t := range tables {
			res, err := x.put(t, ev.object, eventVersion(ev.created), ev.deletes(), h)
			if err != nil {
				x.abort()
				m.wmu.Unlock()
				return err
			}
			if res == resConflict {
				conflicts = append(conflicts, conflict{t, ev.object, ev})
				pending = true
				continue
			}
			x.events[t]++
			x.tableMeta[t] = true
		}
		if !pending {
			if err := x.b.Set(key, int64Bytes(ev.created), nil); err != nil {
				x.abort()
				m.wmu.Unlock()
				return err
			}
		}
	}
	err := x.commit(true)
	m.wmu.Unlock()
	if err != nil {
		return err
	}
	for _, c := range conflicts {
		if err := m.refetch(ctx, c.t, c.obj, &c.ev); err != nil {
			return err
		}
	}
	return nil
}

// refetch settles a conflict between two snapshots of one second by
// reading the object from Stripe and storing the answer with the read's
// time. A 404 leaves a soft tombstone, which a snapshot of a later second
// replaces: the object may only be out of sight (a customer hidden by its
// test clock, a read served before the write is visible everywhere); only
// Stripe's own word, an answer marked deleted or a deletion event, leaves
// a hard one. ev, if not nil, is the event that conflicted: it is recorded
// as applied in the same batch. A table without a retrieve endpoint keeps
// the newer-arrived snapshot.
func (m *Mirror) refetch(ctx context.Context, t *table, obj stripeapi.Object, ev *event) error {
	at := m.now()
	version := at.UnixNano()
	fresh, deleted, h := obj, false, force
	if path, ok := retrievePath(t, obj); ok && m.cfg.Client != nil {
		got, err := m.cfg.Client.Get(ctx, path, nil)
		switch {
		case stripeapi.IsNotFound(err) && ev != nil && ev.deletes():
			// The deletion, confirmed: dated by its event, in Stripe's
			// clock, so that a re-creation of its second, seen later, is
			// settled by asking again rather than taken for older.
			deleted, version = true, eventVersion(ev.created)
		case stripeapi.IsNotFound(err):
			deleted, h = true, sweep
		case err != nil:
			return fmt.Errorf("mirror: re-read %s %s: %w", t.name, obj.ID(), err)
		default:
			fresh = got
			if d, _ := got["deleted"].(bool); d {
				deleted = true
			}
			if t.parentPath != "" {
				// Keep the parent the list fan-out fills, if Stripe's
				// retrieve leaves it out.
				if v, ok := lookup(obj, t.parentPath); ok {
					if _, has := got[t.parentPath]; !has && !strings.Contains(t.parentPath, ".") {
						got[t.parentPath] = v
					}
				}
			}
		}
	} else if ev != nil {
		deleted = ev.deletes()
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	x := m.newTxn()
	if _, err := x.put(t, fresh, version, deleted, h); err != nil {
		x.abort()
		return err
	}
	if ev != nil {
		if err := x.b.Set(appliedKey(ev.id), int64Bytes(ev.created), nil); err != nil {
			x.abort()
			return err
		}
		x.events[t]++
		x.tableMeta[t] = true
	}
	return x.commit(ev != nil)
}

// retrievePath is the GET path of obj in t, if Stripe has one.
func retrievePath(t *table, obj stripeapi.Object) (string, bool) {
	p := t.t.RetrievePath
	if p == "" {
		return "", false
	}
	p = strings.ReplaceAll(p, "{id}", url.PathEscape(obj.ID()))
	if t.t.Parent.InPath() {
		v, _ := lookup(obj, t.parentPath)
		id, ok := v.(string)
		if !ok {
			if m, isMap := v.(map[string]any); isMap {
				id, ok = m["id"].(string)
			}
		}
		if !ok || id == "" {
			return "", false
		}
		p = strings.ReplaceAll(p, t.t.Parent.Placeholder, url.PathEscape(id))
	}
	return p, !strings.Contains(p, "{")
}

// rebackfill starts a new backfill of every table after a gap in the event
// stream longer than its retention: events were lost, so only a full read
// can tell what changed.
func (m *Mirror) rebackfill(start time.Time, why string) error {
	m.log.Warn("mirror: backfilling every table again", "why", why)
	m.wmu.Lock()
	defer m.wmu.Unlock()
	x := m.newTxn()
	from := start.Add(-m.cfg.Overlap).Unix()
	if err := x.b.Set(cursorKey, int64Bytes(from), nil); err != nil {
		x.abort()
		return err
	}
	prefix := []byte{kindApplied}
	if err := x.b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
		x.abort()
		return err
	}
	m.mu.Lock()
	for _, t := range m.order {
		t.meta.State = StateBackfilling
		x.tableMeta[t] = true
	}
	m.mu.Unlock()
	if err := x.commit(true); err != nil {
		return err
	}
	m.mu.Lock()
	m.cursor = from
	m.mu.Unlock()
	m.wakeBackfill()
	return nil
}

// kickPoll asks the follower to poll now.
func (m *Mirror) kickPoll() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}
