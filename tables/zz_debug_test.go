package tables

import (
	"testing"
)

func TestZZExplainJoin(t *testing.T) {
	_, engine, newCtx, _ := emulatorEngine(t, 100)
	for _, q := range []string{
		"EXPLAIN FORMAT=TREE SELECT c.Id, COUNT(*), SUM(i.Total) FROM Customers c JOIN Invoices i ON i.CustomerId = c.Id GROUP BY c.Id",
		"EXPLAIN FORMAT=TREE SELECT DATE_FORMAT(Created, '%Y-%m') AS Month, COUNT(*), SUM(Amount) FROM Charges GROUP BY Month ORDER BY Month",
	} {
		for _, r := range query(t, engine, newCtx, q) {
			t.Log(r)
		}
	}
}
