package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// idSet counts the ids a query returned.
type idSet struct {
	rows int64
	seen map[string]int
}

// collectIDs runs a SELECT * and counts its rows by the Id column.
func collectIDs(ctx context.Context, db *sql.DB, query string) (idSet, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return idSet{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return idSet{}, err
	}
	idCol := slices.Index(cols, "Id")
	if idCol < 0 {
		return idSet{}, fmt.Errorf("%s: no Id column in %v", query, cols)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	s := idSet{seen: map[string]int{}}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s, err
		}
		s.rows++
		s.seen[string(vals[idCol])]++
	}
	return s, rows.Err()
}

// check compares the ids seen with the emulator's: none missing, none
// repeated, none unknown.
func (s idSet) check(want []string) (string, bool) {
	missing, repeated, unknown := 0, 0, 0
	known := make(map[string]bool, len(want))
	for _, id := range want {
		known[id] = true
		if s.seen[id] == 0 {
			missing++
		}
	}
	for id, n := range s.seen {
		if !known[id] {
			unknown++
		}
		repeated += n - 1
	}
	msg := fmt.Sprintf("%d of %d ids, %d missing, %d repeated", len(s.seen), len(want), missing, repeated)
	if unknown > 0 {
		msg += fmt.Sprintf(", %d unknown", unknown)
	}
	return msg, missing == 0 && repeated == 0 && unknown == 0
}

// runCharges runs a monthly SUM(Amount) over the charges, cold and warm
// on one server (see coldWarm), and checks each month against the
// emulator's charges.
func runCharges(ctx context.Context, o Options, c conditions) ([]Result, error) {
	fx := fixture{customers: 100, charges: o.Charges}
	base := Result{Scenario: "charges", Latency: c.latency, Limit: c.limit, Pages: pages(fx.charges),
		Query: "SELECT DATE_FORMAT(Created, '%Y-%m') AS Month, COUNT(*), SUM(Amount) FROM Charges GROUP BY Month ORDER BY Month"}
	base.Bound = c.bound(base.Pages)
	st, err := setUp(ctx, o, fx, c)
	if err != nil {
		return []Result{base}, err
	}
	defer st.close()
	type agg struct{ n, sum int64 }
	want := map[string]agg{}
	st.emu.Each("charge", func(ch map[string]any) {
		m := time.Unix(ch["created"].(int64), 0).UTC().Format("2006-01")
		a := want[m]
		a.n++
		a.sum += ch["amount"].(int64)
		want[m] = a
	})
	var out []Result
	for _, run := range coldWarm {
		r := base
		r.Run = run
		got := map[string]agg{}
		err = st.measure(&r, func() error {
			rows, err := st.srv.db.QueryContext(ctx, r.Query)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var month, sum string
				var a agg
				if err := rows.Scan(&month, &a.n, &sum); err != nil {
					return err
				}
				if a.sum, err = exactInt(sum); err != nil {
					return err
				}
				got[month] = a
				r.Rows++
			}
			return rows.Err()
		})
		if err != nil {
			return append(out, r), err
		}
		wrong := 0
		for m, a := range want {
			if got[m] != a {
				wrong++
			}
		}
		r.OK = wrong == 0 && len(got) == len(want)
		r.Check = fmt.Sprintf("%d months of %d charges, %d wrong of %d", len(got), o.Charges, wrong, len(want))
		out = append(out, r)
	}
	return out, nil
}

// joinQuery totals each customer's invoices.
const joinQuery = "SELECT c.Id, COUNT(*), SUM(i.Total) FROM Customers c JOIN Invoices i ON i.CustomerId = c.Id GROUP BY c.Id"

// runColdWarmJoin runs the join twice on one server and reports both runs
// (see coldWarm).
func runColdWarmJoin(ctx context.Context, o Options, c conditions) ([]Result, error) {
	var out []Result
	_, err := runJoinRuns(ctx, o, c, len(coldWarm), func(run int, r Result) {
		r.Run = coldWarm[run]
		out = append(out, r)
	})
	return out, err
}

// runJoin runs the Customers–Invoices join times times on one server,
// checking every run; the last run's figures are reported, with the
// server's RSS after all of them.
func runJoin(ctx context.Context, o Options, c conditions, times int) (Result, error) {
	return runJoinRuns(ctx, o, c, times, nil)
}

// runJoinRuns is runJoin; each, if set, gets every run's figures.
func runJoinRuns(ctx context.Context, o Options, c conditions, times int, each func(run int, r Result)) (Result, error) {
	fx := fixture{customers: o.JoinCustomers, invoices: o.JoinInvoices}
	name := "join"
	if each == nil && times > 1 {
		name = "joins"
	}
	// Every invoice must be read; its customer can come expanded inline,
	// so the invoices' pages are the least a plan can fetch.
	r := Result{Scenario: name, Query: joinQuery, Latency: c.latency, Limit: c.limit, Pages: pages(fx.invoices)}
	r.Bound = c.bound(r.Pages)
	st, err := setUp(ctx, o, fx, c)
	if err != nil {
		return r, err
	}
	defer st.close()
	type agg struct{ n, sum int64 }
	want := map[string]agg{}
	st.emu.Each("invoice", func(inv map[string]any) {
		a := want[inv["customer"].(string)]
		a.n++
		a.sum += inv["total"].(int64)
		want[inv["customer"].(string)] = a
	})
	idle, _, err := st.srv.memory()
	if err != nil {
		return r, err
	}
	if r.IdleHeap, _, err = st.srv.heapAfterGC(ctx, o.GCWait); err != nil {
		return r, err
	}
	var total float64
	for run := range times {
		got := map[string]agg{}
		r.Rows = 0
		err = st.measure(&r, func() error {
			rows, err := st.srv.db.QueryContext(ctx, joinQuery)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, sum string
				var a agg
				if err := rows.Scan(&id, &a.n, &sum); err != nil {
					return err
				}
				if a.sum, err = exactInt(sum); err != nil {
					return err
				}
				got[id] = a
				r.Rows++
			}
			return rows.Err()
		})
		if err != nil {
			return r, err
		}
		total += r.Seconds
		wrong := 0
		for id, a := range want {
			if got[id] != a {
				wrong++
			}
		}
		r.OK = wrong == 0 && len(got) == len(want)
		r.Check = fmt.Sprintf("%d customers' totals, %d wrong", len(got), wrong)
		if both := c.bound(pages(fx.invoices), pages(fx.customers)); both > 0 && r.Seconds > 0 {
			// The issue that asked for joins at the bound put this one's
			// at both tables' pages, as a plan that lists the customers
			// too needs; Bound is the stricter least a plan can fetch.
			r.Check += fmt.Sprintf("; %.2f of the %.1f s bound of both tables' %d pages", both/r.Seconds, both, pages(fx.invoices)+pages(fx.customers))
		}
		if name == "joins" {
			r.Check = fmt.Sprintf("run %d: %s", run+1, r.Check)
		}
		if each != nil {
			r.IdleRSS = idle
			each(run, r)
		}
		if !r.OK {
			break
		}
	}
	if name == "joins" {
		// The heap right after the server's next collection is what the
		// joins left live; the RSS then shows what the runtime gave back.
		if r.AfterHeap, r.HeapAfterGC, err = st.srv.heapAfterGC(ctx, o.GCWait); err != nil {
			return r, err
		}
		if r.AfterRSS, _, err = st.srv.memory(); err != nil {
			return r, err
		}
	}
	r.IdleRSS = idle
	return r, nil
}

// getJSON GETs a Stripe URL and decodes the body into map[string]any.
func getJSON(ctx context.Context, hc *http.Client, u string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer sk_test_bench")
	return decodeResponse(hc, req)
}

// decodeResponse sends req and decodes a 200's body into map[string]any.
func decodeResponse(hc *http.Client, req *http.Request) (map[string]any, error) {
	u := req.URL.String()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, u, strconv.Itoa(resp.StatusCode), body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, u, err)
	}
	return out, nil
}

// exactInt reads a SUM of integers, which the engine may render as a
// decimal or a float ("4.3697e+06"), as the integer it must be.
func exactInt(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("SUM %q is not an exact integer", s)
	}
	return r.Num().Int64(), nil
}
