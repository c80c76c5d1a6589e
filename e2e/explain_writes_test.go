package e2e

import (
	"strings"
	"testing"
)

// EXPLAIN of UPDATE and DELETE shows their Stripe requests, as EXPLAIN
// SELECT does: the reads that find the rows and the write each matched
// row makes; EXPLAIN makes no request.
func TestExplainUpdateAndDeleteShowStripeRequests(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	explain := func(q string) string {
		t.Helper()
		rows, reqs := c.query("EXPLAIN " + q)
		if len(reqs) != 0 {
			t.Errorf("EXPLAIN %s made requests %v", q, reqs)
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, r["plan"])
		}
		return strings.Join(lines, "\n")
	}
	for _, tc := range []struct{ q, read, write string }{
		{"UPDATE Customers SET Name = 'x' WHERE Email = 'a@example.com'", "GET /v1/customers?email=a%40example.com",
			"stripe writes: POST /v1/customers/{id} per matched row, only the changed columns"},
		{"DELETE FROM Customers WHERE Id = 'cus_1'", "GET /v1/customers/cus_1", "stripe writes: DELETE /v1/customers/{id} per matched row"},
		{"DELETE FROM Charges WHERE Id = 'ch_1'", "GET /v1/charges/ch_1", "stripe writes: none, Stripe cannot delete a charge"},
	} {
		plan := explain(tc.q)
		if !strings.Contains(plan, tc.read) || !strings.Contains(plan, tc.write) {
			t.Errorf("EXPLAIN %s:\n%s\nwant %q and %q", tc.q, plan, tc.read, tc.write)
		}
	}
	// A SELECT's plan has no write line, and the UPDATE still runs.
	if plan := explain("SELECT Id FROM Customers WHERE Id = 'cus_1'"); strings.Contains(plan, "stripe writes") {
		t.Errorf("EXPLAIN SELECT shows writes:\n%s", plan)
	}
	id := c.value("SELECT Id FROM Customers LIMIT 1")
	reqs := c.exec("UPDATE Customers SET Description = 'explained' WHERE Id = '" + id + "'")
	if len(reqs) == 0 || reqs[len(reqs)-1] != "POST /v1/customers/"+id+" description=explained" {
		t.Errorf("UPDATE made %v", reqs)
	}
}
