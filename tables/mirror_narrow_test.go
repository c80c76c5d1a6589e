package tables

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/stripeapi"
)

// TestMirrorAggregatesEqualLive: random aggregates and projections of the
// scalar columns of Charges (the mirror's narrow values: amounts, status,
// currency, booleans, created), grouped and filtered at random, answer
// through a real mirror store exactly as live reads of the emulator do,
// over seeded charges and charges made with several currencies, captured
// or not, refunded in part or whole.
func TestMirrorAggregatesEqualLive(t *testing.T) {
	emu := emulator.New()
	if _, err := emu.Seed(emulator.Seeding{Charges: 300, From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 8))
	// Charges made through the API, before the mirror's backfill.
	api := httptest.NewServer(emu)
	defer api.Close()
	client, err := stripeapi.New(stripeapi.Config{BaseURL: api.URL, APIKey: "sk_test_x", Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		params := stripeapi.Params{}
		params.Add("amount", strconv.Itoa(100+r.IntN(90000)))
		params.Add("currency", []string{"usd", "eur", "gbp"}[r.IntN(3)])
		params.Add("source", "tok_visa")
		if r.IntN(4) == 0 {
			params.Add("capture", "false")
		}
		ch, err := client.Post(t.Context(), "/v1/charges", params)
		if err != nil {
			t.Fatalf("charge %d: %v", i, err)
		}
		if ch["captured"] == true && r.IntN(3) == 0 {
			refund := stripeapi.Params{}
			refund.Add("charge", ch.ID())
			if r.IntN(2) == 0 {
				refund.Add("amount", "50")
			}
			if _, err := client.Post(t.Context(), "/v1/refunds", refund); err != nil {
				t.Fatalf("refund of %s: %v", ch.ID(), err)
			}
		}
	}
	engine, session, _ := storeEngine(t, emu, "Charges")
	var pid uint64
	query := func(q string) ([]sql.Row, error) {
		pid++
		ctx := sql.NewContext(t.Context(), sql.WithSession(session), sql.WithPid(pid), sql.WithQuery(q))
		_, iter, _, err := engine.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		return sql.RowIterToRows(ctx, iter)
	}
	groups := []string{"DATE_FORMAT(Created, '%Y-%m')", "Currency", "Status", "Paid", "Captured", "Refunded", "DATE_FORMAT(Created, '%Y-%m-%d')", ""}
	aggs := []string{"COUNT(*)", "SUM(Amount)", "SUM(AmountRefunded)", "MAX(AmountCaptured)", "MIN(Created)", "AVG(Amount)",
		"COUNT(OutcomeRiskScore)", "SUM(Amount - AmountRefunded)", "MAX(Created)"}
	conds := []string{"Amount > %d", "Created >= '2025-0%d-01'", "Currency = 'eur'", "Paid", "Refunded = 0", "AmountRefunded > 0",
		"Status IN ('succeeded', 'pending')", "NOT Captured", "Created < '2025-0%d-15'", "Amount BETWEEN 2000 AND %d"}
	where := func() string {
		var parts []string
		for range r.IntN(3) {
			c := conds[r.IntN(len(conds))]
			if strings.Contains(c, "%d") {
				if strings.Contains(c, "Created") {
					c = fmt.Sprintf(c, 1+r.IntN(9))
				} else {
					c = fmt.Sprintf(c, r.IntN(50000))
				}
			}
			parts = append(parts, c)
		}
		if len(parts) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(parts, " AND ")
	}
	compared, rows := 0, 0
	for i := range 150 {
		var q string
		if r.IntN(4) == 0 {
			q = "SELECT Id, Amount, AmountRefunded, Currency, Created, Paid FROM Charges" + where() + " ORDER BY Id LIMIT 40"
		} else {
			var sel []string
			g := groups[r.IntN(len(groups))]
			if g != "" {
				sel = append(sel, g+" AS g")
			}
			for range 1 + r.IntN(3) {
				sel = append(sel, aggs[r.IntN(len(aggs))])
			}
			q = "SELECT " + strings.Join(sel, ", ") + " FROM Charges" + where()
			if g != "" {
				q += " GROUP BY g ORDER BY g"
			}
		}
		if _, err := query("SET stripe_source = 'live'"); err != nil {
			t.Fatal(err)
		}
		live, lerr := query(q)
		if _, err := query("SET stripe_source = 'mirror'"); err != nil {
			t.Fatal(err)
		}
		mirrored, merr := query(q)
		if (lerr == nil) != (merr == nil) {
			t.Fatalf("query %d %s: live error %v, mirror error %v", i, q, lerr, merr)
		}
		if lerr != nil {
			continue
		}
		if !reflect.DeepEqual(live, mirrored) {
			t.Fatalf("query %d %s:\n live   %v\n mirror %v", i, q, live, mirrored)
		}
		compared++
		rows += len(live)
	}
	if compared < 140 || rows < 500 {
		t.Errorf("%d queries compared, %d rows: too few to show anything", compared, rows)
	}
	t.Logf("%d random queries, %d rows, equal live and through the mirror", compared, rows)
}
