package e2e

import (
	"strings"
	"testing"
)

// The README says LIKE compares bytes, even when Stripe's Search (which
// ignores case) finds the candidates: a lower-case pattern misses a
// mixed-case email, and LOWER(Email) LIKE finds it.
func TestLikeIsByteWiseAsTheREADMESays(t *testing.T) {
	e := newEnv(t)
	var id, email string
	for _, cid := range e.emu.IDs("customer") {
		em, _ := e.emu.Get("customer", cid)["email"].(string)
		local, _, ok := strings.Cut(em, "@")
		if last := local[strings.LastIndex(local, ".")+1:]; ok && last != strings.ToLower(last) {
			id, email = cid, em
			break
		}
	}
	if id == "" {
		t.Fatal("the demo has no customer with a mixed-case email")
	}
	local, _, _ := strings.Cut(email, "@")
	part := strings.ToLower(local[strings.LastIndex(local, ".")+1:]) // the surname: Wright → wright
	if strings.Contains(email, part) {
		t.Fatalf("%s: the lower-case part %q is in the email as it is", email, part)
	}
	has := func(q string) bool {
		for _, r := range e.query(t, q) {
			if r[0].String == id {
				return true
			}
		}
		return false
	}
	if q := "SELECT Id FROM Customers WHERE Email LIKE '%" + part + "%'"; has(q) {
		t.Errorf("%s found %s (%s): LIKE ignored case", q, id, email)
	}
	if q := "SELECT Id FROM Customers WHERE LOWER(Email) LIKE '%" + part + "%'"; !has(q) {
		t.Errorf("%s missed %s (%s)", q, id, email)
	}
}
