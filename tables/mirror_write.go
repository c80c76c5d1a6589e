package tables

import (
	"context"
	"net/http"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// Read your writes: every write Stripe applied is applied to the mirror
// with Stripe's answer before the statement returns, so that the next
// SELECT, in any session, sees it without waiting for Stripe's event. A
// failure to apply is logged and shown as a warning: the write happened
// in Stripe, and the event will bring it to the mirror later.

// mirrorApplyTimeout bounds applying one write to the mirror; the write
// is done, and the statement's own context may be ending.
const mirrorApplyTimeout = 5 * time.Second

// applyToMirror applies one applied write to the mirror, if it mirrors
// the table written.
func (d *Database) applyToMirror(ctx *sql.Context, st *writeStatement, call *writeCall, res *writeResult) {
	m := d.mirrorOf()
	if m == nil || res.outcome != outcomeApplied {
		return
	}
	// The mirror holds the server's account only.
	if st.account != "" && st.account != d.client.Account() {
		return
	}
	obj := res.obj
	deleted := false
	if call.method == http.MethodDelete {
		// A DELETE that deletes answers {id, object, deleted: true}; one
		// that cancels (a subscription) answers the object.
		flag, _ := obj["deleted"].(bool)
		deleted = obj == nil || flag
	}
	def := d.writtenTable(st, obj)
	if def == nil || !m.Mirrors(def.Name) {
		return
	}
	if obj == nil {
		// Verified applied after a lost answer: a delete is known by id;
		// anything else waits for its event.
		if !deleted || res.id == "" {
			return
		}
		obj = stripeapi.Object{"id": res.id, "object": def.Object, "deleted": true}
	}
	base := context.Background()
	if ctx != nil {
		base = context.WithoutCancel(ctx)
	}
	actx, cancel := context.WithTimeout(base, mirrorApplyTimeout)
	defer cancel()
	if err := m.Applied(actx, def.Name, obj, deleted); err != nil {
		d.logger.Warn("mirror: a write applied in Stripe was not applied to the mirror; its event will be",
			"table", def.Name, "id", obj.ID(), "err", err)
		if ctx != nil && ctx.Session != nil {
			ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: int(ErrCodeMirrorUnavailable),
				Message: "the mirror of " + def.Name + " did not take this write yet (" + err.Error() + "); it shows once Stripe's event is applied"})
		}
	}
}

// writtenTable is the table a write's answer belongs to: the statement's
// table for INSERT, UPDATE and DELETE; for a procedure, the table of the
// returned object's type.
func (d *Database) writtenTable(st *writeStatement, obj stripeapi.Object) *catalog.Table {
	if st.verb != "CALL" {
		if def, ok := d.catalog.Lookup(st.table); ok {
			return def
		}
		return nil
	}
	kind, _ := obj["object"].(string)
	if kind == "" {
		return nil
	}
	def, ok := d.catalog.ByObject(kind)
	if !ok {
		return nil
	}
	return def
}
