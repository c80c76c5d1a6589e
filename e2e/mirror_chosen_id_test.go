package e2e

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// TestMirrorShowsAProductCreatedAgainWithItsID: a product's id can be
// chosen by its creator (at Stripe: stripesql's INSERT leaves ids to
// Stripe), and one deleted can be created again with the same id. Deleted
// through stripesql or at the emulator and created again at the emulator,
// the mirror shows it once it has caught up; written through stripesql
// after its re-creation, it shows at once (read your writes).
func TestMirrorShowsAProductCreatedAgainWithItsID(t *testing.T) {
	e := newEnv(t, withMirror("Products"), withConns(3))
	ctx := t.Context()
	waitMirrorReady(t, e, "Products")
	writer, reader := pinnedConn(t, e), pinnedConn(t, e)
	want := func(when, name string) {
		t.Helper()
		got := connRows(t, reader, "SELECT Name FROM Products WHERE Id = 'prod_chosen'")
		switch {
		case name == "" && len(got) != 0:
			t.Errorf("%s: the mirror reads %v, want no row", when, got)
		case name != "" && (len(got) != 1 || got[0][0] != name):
			t.Errorf("%s: the mirror reads %v, want %q", when, got, name)
		}
	}
	caughtUp := func() {
		t.Helper()
		if err := e.mirror.CaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	direct := func(method, path string, form url.Values) {
		t.Helper()
		res, err := e.directDo(context.Background(), method, path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d", method, path, res.StatusCode)
		}
	}
	create := func(name string) {
		t.Helper()
		direct(http.MethodPost, "/v1/products", url.Values{"id": {"prod_chosen"}, "name": {name}})
	}
	noWarnings := func(stmt string) {
		t.Helper()
		if w := connRows(t, writer, "SHOW WARNINGS"); len(w) != 0 {
			t.Errorf("%s warned %v, want nothing (the mirror took it)", stmt, w)
		}
	}

	create("one")
	caughtUp()
	want("created at the emulator", "one")
	mustExec(t, writer, "DELETE FROM Products WHERE Id = 'prod_chosen'")
	want("after the DELETE", "")
	create("two")
	caughtUp()
	want("deleted through stripesql, created again at the emulator", "two")

	mustExec(t, writer, "DELETE FROM Products WHERE Id = 'prod_chosen'")
	create("three")
	update := "UPDATE Products SET Name = 'four' WHERE Id = 'prod_chosen'"
	mustExec(t, writer, update)
	noWarnings(update)
	want("the UPDATE after the re-creation, before any event", "four")
	caughtUp()
	want("after the events of the DELETE, the creation and the UPDATE", "four")

	direct(http.MethodDelete, "/v1/products/prod_chosen", nil)
	caughtUp()
	want("deleted at the emulator", "")
	create("five")
	caughtUp()
	want("created again at the emulator", "five")
	// Both in one second, with no poll between them.
	direct(http.MethodDelete, "/v1/products/prod_chosen", nil)
	create("six")
	caughtUp()
	want("deleted and created again at once at the emulator", "six")
	if n := statusValue(t, reader, "Stripe_calls"); n != "0" {
		t.Errorf("the reader's Stripe_calls = %s, want 0 (the mirror answered)", n)
	}
}
