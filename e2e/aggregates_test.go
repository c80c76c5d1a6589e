package e2e

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// TestSumAndAvgOfMoneyAreExactDecimals compares SUM and AVG of charge
// amounts with sums computed from the emulator's objects, and checks the
// column type the driver reports: DECIMAL, as MySQL types SUM of BIGINT.
func TestSumAndAvgOfMoneyAreExactDecimals(t *testing.T) {
	e := newEnv(t)
	charges := e.list(t, "/v1/charges", "")
	if len(charges) < 2 {
		t.Fatalf("the demo has %d charges", len(charges))
	}
	sum := new(big.Int)
	for _, c := range charges {
		n, ok := new(big.Int).SetString(string(c["amount"].(json.Number)), 10)
		if !ok {
			t.Fatalf("amount %v", c["amount"])
		}
		sum.Add(sum, n)
	}
	// AVG: DECIMAL(23,4), rounded half up at the 4th decimal.
	avg := new(big.Rat).SetFrac(sum, big.NewInt(int64(len(charges))))
	wantAvg := avg.FloatString(4)
	wantDollars := new(big.Rat).SetFrac(sum, big.NewInt(100)).FloatString(4)

	rows, err := e.db.Query("SELECT SUM(Amount), AVG(Amount), SUM(Amount)/100, COUNT(*) FROM Charges")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for i, ct := range types[:3] {
		if ct.DatabaseTypeName() != "DECIMAL" {
			t.Errorf("column %d (%s) is %s, want DECIMAL", i, ct.Name(), ct.DatabaseTypeName())
		}
	}
	if p, s, ok := types[0].DecimalSize(); !ok || p != 41 || s != 0 {
		t.Errorf("SUM(Amount) is DECIMAL(%d,%d), want DECIMAL(41,0)", p, s)
	}
	if p, s, ok := types[1].DecimalSize(); !ok || p != 23 || s != 4 {
		t.Errorf("AVG(Amount) is DECIMAL(%d,%d), want DECIMAL(23,4)", p, s)
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	var gotSum, gotAvg, gotDollars string
	var n int
	if err := rows.Scan(&gotSum, &gotAvg, &gotDollars, &n); err != nil {
		t.Fatal(err)
	}
	if n != len(charges) {
		t.Errorf("COUNT(*) = %d, want %d", n, len(charges))
	}
	if gotSum != sum.String() || strings.ContainsAny(gotSum, "eE.") {
		t.Errorf("SUM(Amount) = %s, want %s", gotSum, sum)
	}
	if gotAvg != wantAvg {
		t.Errorf("AVG(Amount) = %s, want %s", gotAvg, wantAvg)
	}
	if gotDollars != wantDollars {
		t.Errorf("SUM(Amount)/100 = %s, want %s", gotDollars, wantDollars)
	}
	t.Logf("%d charges: SUM %s, AVG %s, SUM/100 %s", n, gotSum, gotAvg, gotDollars)
}
