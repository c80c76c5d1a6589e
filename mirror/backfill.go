package mirror

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/stripesql/stripesql/stripeapi"
)

const (
	// backfillBatch is the number of objects written per Pebble batch.
	backfillBatch = 512
	// backfillRetry is the wait before a failed backfill is tried again.
	backfillRetry = 30 * time.Second
)

func (m *Mirror) wakeBackfill() {
	select {
	case m.backfill <- struct{}{}:
	default:
	}
}

// runBackfill backfills, one after the other, every table whose state is
// backfilling, whenever woken.
func (m *Mirror) runBackfill(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.backfill:
		}
		for {
			t := m.nextBackfill()
			if t == nil || ctx.Err() != nil {
				break
			}
			if err := m.backfillTable(ctx, t); err != nil {
				if ctx.Err() != nil {
					return
				}
				m.log.Warn("mirror: backfill failed", "table", t.name, "err", err)
				m.setState(t, stateFailed+err.Error())
				time.AfterFunc(m.retry, func() {
					if ctx.Err() == nil {
						m.setState(t, StateBackfilling)
						m.wakeBackfill()
					}
				})
			}
		}
	}
}

func (m *Mirror) nextBackfill() *table {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.order {
		if t.meta.State == StateBackfilling {
			return t
		}
	}
	return nil
}

// setState records a table's state.
func (m *Mirror) setState(t *table, state string) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.closed.Load() {
		return // a retry timer firing after Close
	}
	m.mu.Lock()
	t.meta.State = state
	m.mu.Unlock()
	x := m.newTxn()
	x.tableMeta[t] = true
	if err := x.commit(true); err != nil {
		m.log.Warn("mirror: cannot record state", "table", t.name, "err", err)
	}
}

// backfillTable reads the whole of t live and stores it. Each object's
// version is the instant the read started: any change after it comes as an
// event of a later second, which wins. The events cursor is moved back to
// that instant (minus the overlap) if it is later, so no change made during
// the backfill is missed. Objects the read did not return are gone: they are
// swept at the end.
func (m *Mirror) backfillTable(ctx context.Context, t *table) error {
	if m.cfg.ReadAll == nil {
		return errors.New("no live reader configured")
	}
	start := m.now()
	version := start.UnixNano()
	m.wmu.Lock()
	m.mu.Lock()
	t.meta.State, t.meta.Backfilled, t.meta.BackfillStart = StateBackfilling, 0, version
	from := start.Add(-m.cfg.Overlap).Unix()
	moveCursor := m.cursor == 0 || m.cursor > from
	m.mu.Unlock()
	x := m.newTxn()
	x.tableMeta[t] = true
	var err error
	if moveCursor {
		err = x.b.Set(cursorKey, int64Bytes(from), nil)
	}
	if err != nil {
		x.abort()
	} else {
		err = x.commit(true)
	}
	if err == nil && moveCursor {
		// Only once it is on disk: the cursor in memory never says more
		// than the store does.
		m.mu.Lock()
		if m.cursor == 0 || m.cursor > from {
			m.cursor = from
		}
		m.mu.Unlock()
	}
	if err == nil {
		var empty bool
		if empty, err = m.empty(t); empty {
			t.fresh = map[string]bool{}
		}
	}
	m.wmu.Unlock()
	defer func() {
		m.wmu.Lock()
		t.fresh = nil
		m.wmu.Unlock()
	}()
	if err != nil {
		return err
	}
	m.log.Info("mirror: backfill started", "table", t.name)

	// ReadAll's emits (possibly from several goroutines) only fill a
	// buffer; full buffers go to one writer, so reading never waits on the
	// disk unless two batches are already queued.
	var (
		mu        sync.Mutex
		buf       []stripeapi.Object
		batches   = make(chan []stripeapi.Object, 2)
		conflicts []stripeapi.Object
		writeErr  error
		wg        sync.WaitGroup
	)
	// A failed write stops the read: its objects could not be kept.
	rctx, stopRead := context.WithCancelCause(ctx)
	defer stopRead(nil)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range batches {
			if writeErr != nil {
				continue
			}
			c, err := m.writeSnapshots(t, b, version)
			if err != nil {
				writeErr = err
				stopRead(err)
			}
			conflicts = append(conflicts, c...)
		}
	}()
	readErr := m.cfg.ReadAll(rctx, t.name, func(obj stripeapi.Object) error {
		mu.Lock()
		buf = append(buf, obj)
		var full []stripeapi.Object
		if len(buf) >= backfillBatch {
			full, buf = buf, make([]stripeapi.Object, 0, backfillBatch)
		}
		mu.Unlock()
		if full != nil {
			select {
			case batches <- full:
			case <-rctx.Done():
				return context.Cause(rctx)
			}
		}
		return nil
	})
	if readErr == nil && len(buf) > 0 {
		batches <- buf
	}
	close(batches)
	wg.Wait()
	if writeErr != nil {
		return writeErr
	}
	if readErr != nil {
		return fmt.Errorf("read %s: %w", t.name, readErr)
	}
	for _, obj := range conflicts {
		if err := m.refetch(ctx, t, obj, nil); err != nil {
			return err
		}
	}
	if err := m.sweep(t, version); err != nil {
		return err
	}
	if err := m.recount(t); err != nil {
		return err
	}
	m.setState(t, StateReady)
	m.mu.Lock()
	n := t.meta.Backfilled
	m.mu.Unlock()
	m.log.Info("mirror: backfill done", "table", t.name, "objects", n, "took", m.now().Sub(start).Round(time.Millisecond))
	return nil
}

// writeSnapshots stores a batch of a backfill's objects and returns those
// that conflict with a snapshot of the same second.
func (m *Mirror) writeSnapshots(t *table, objs []stripeapi.Object, version int64) ([]stripeapi.Object, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	x := m.newTxn()
	var conflicts []stripeapi.Object
	for _, obj := range objs {
		res, err := x.put(t, obj, version, false, backfill)
		if err != nil {
			x.abort()
			return nil, err
		}
		if res == resConflict {
			conflicts = append(conflicts, obj)
		}
	}
	x.backfill[t] += int64(len(objs))
	x.tableMeta[t] = true
	return conflicts, x.commit(false)
}

// sweep leaves a soft tombstone for every object of t older than version:
// the backfill that started at version did not return it. Only whole
// seconds are compared: an event's snapshot carries the start of its
// second, so an object created in the backfill's first second, after the
// read passed its place, reads as older than the backfill in nanoseconds,
// though it is not.
func (m *Mirror) sweep(t *table, version int64) error {
	prefix := tablePrefix(kindPrimary, t.name)
	var stale []string
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		p, ok := decodePrimary(it.Value())
		if ok && !p.gone() && second(p.version) < second(version) {
			stale = append(stale, string(it.Key()[len(prefix):]))
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	for len(stale) > 0 {
		n := min(len(stale), backfillBatch)
		if err := m.sweepBatch(t, stale[:n], version); err != nil {
			return err
		}
		stale = stale[n:]
	}
	return nil
}

func (m *Mirror) sweepBatch(t *table, ids []string, version int64) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	x := m.newTxn()
	for _, id := range ids {
		// Re-checked inside the lock: an event may have refreshed it since.
		raw, ok, err := x.get(primaryKey(t.name, id))
		if err != nil {
			x.abort()
			return err
		}
		if p, _ := decodePrimary(raw); !ok || p.gone() || second(p.version) >= second(version) {
			continue
		}
		if _, err := x.put(t, stripeapi.Object{"id": id}, version, true, sweep); err != nil {
			x.abort()
			return err
		}
	}
	return x.commit(false)
}

// empty reports whether t holds no record at all, not even a tombstone.
func (m *Mirror) empty(t *table) (bool, error) {
	prefix := tablePrefix(kindPrimary, t.name)
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, err
	}
	any := it.First()
	return !any, it.Close()
}

// recount sets t's object count to the objects its primary keyspace
// holds: a first backfill counts duplicates it wrote blind twice.
func (m *Mirror) recount(t *table) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if t.fresh == nil {
		return nil
	}
	t.fresh = nil
	prefix := tablePrefix(kindPrimary, t.name)
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		if p, ok := decodePrimary(it.Value()); ok && !p.gone() {
			n++
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	m.mu.Lock()
	t.meta.Objects = n
	m.mu.Unlock()
	x := m.newTxn()
	x.tableMeta[t] = true
	return x.commit(true)
}
