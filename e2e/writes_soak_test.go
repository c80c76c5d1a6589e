package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/tables"
)

// Many clients insert while the emulator keeps failing creates in every
// way a proxy or Stripe can: answers lost before or after the commit,
// 429s and 500s with or without a commit first. Whatever the mix, each
// statement's report matches the emulator: rows reported written exist
// once with the reported ids, the row reported unknown exists at most
// once, rows not sent do not exist; and a client that retries each
// unknown statement with the key it was given ends with every row created
// exactly once. No timing is asserted.
func TestWritesUnderRandomFaults(t *testing.T) {
	const clients, statements, rows = 6, 8, 3
	e := newEnv(t, withConns(clients+1), withWriteRetryWindow(30*time.Millisecond), withQuietLogs())
	kinds := []emulator.FaultKind{
		emulator.FaultDropConnection, emulator.FaultDropAfterCommit, emulator.FaultRateLimit,
		emulator.FaultServerError, emulator.FaultCommitThenRateLimit, emulator.FaultCommitThenServerError,
	}
	// Faults armed up front, spread over the creates by their After
	// counts: random, but not tied to how fast the clients run.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		e.emu.InjectFault(emulator.Fault{Method: "POST", Path: "/v1/customers",
			Kind: kinds[rng.IntN(len(kinds))], Times: 1 + rng.IntN(6), After: rng.IntN(120)})
	}

	keyRe := regexp.MustCompile(`SET stripe_idempotency_key = '([^']+)'`)
	var (
		mu       sync.Mutex
		unknowns int
		checks   []func() // run once the faults have stopped
	)
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			c := e.conn(t)
			for s := range statements {
				prefix := fmt.Sprintf("soak-%d-%d-", cl, s)
				var values []string
				for r := 1; r <= rows; r++ {
					values = append(values, fmt.Sprintf("('%s%d')", prefix, r))
				}
				stmt := "INSERT INTO Customers (Name) VALUES " + strings.Join(values, ", ")
				_, err := c.c.ExecContext(context.Background(), stmt)
				var me *mysql.MySQLError
				switch {
				case err == nil:
				case errors.As(err, &me) && me.Number == tables.ErrWriteOutcomeUnknown:
					mu.Lock()
					unknowns++
					mu.Unlock()
					m := keyRe.FindStringSubmatch(me.Message)
					if m == nil {
						t.Errorf("%s: no key in %s", prefix, me.Message)
						continue
					}
					// The report against the emulator, at once.
					named := customersNamed(e.emu, prefix)
					row := 0
					fmt.Sscanf(me.Message[strings.Index(me.Message, ", row ")+len(", row "):], "%d", &row)
					for r := 1; r <= rows; r++ {
						n := len(named[fmt.Sprintf("%s%d", prefix, r)])
						switch {
						case r < row && (n != 1 || !strings.Contains(me.Message, named[fmt.Sprintf("%s%d", prefix, r)][0])):
							t.Errorf("%s row %d reported written: %d customers %v; message %s", prefix, r, n, named, me.Message)
						case r == row && n > 1:
							t.Errorf("%s row %d, unknown, created %d times", prefix, r, n)
						case r > row && n != 0:
							t.Errorf("%s row %d reported not sent exists", prefix, r)
						}
					}
					key := m[1]
					mu.Lock()
					checks = append(checks, func() {
						c.exec("SET stripe_idempotency_key = '" + key + "'")
						c.exec(stmt)
					})
					mu.Unlock()
				default:
					t.Errorf("%s: %v; want success or an unknown outcome", prefix, err)
				}
			}
		})
	}
	wg.Wait()
	e.emu.ClearFaults()
	for _, retry := range checks {
		retry()
	}
	named := customersNamed(e.emu, "soak-")
	for cl := range clients {
		for s := range statements {
			for r := 1; r <= rows; r++ {
				if n := len(named[fmt.Sprintf("soak-%d-%d-%d", cl, s, r)]); n != 1 {
					t.Errorf("soak-%d-%d-%d exists %d times, want once", cl, s, r, n)
				}
			}
		}
	}
	outcomes, _ := e.conn(t).query("SELECT Outcome, COUNT(*) AS N FROM StripeWrites GROUP BY Outcome ORDER BY Outcome")
	t.Logf("%d statements, %d of them unknown and retried with their key; StripeWrites: %v", clients*statements, unknowns, outcomes)
}
