package main

import (
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stripesql/stripesql/emulator"
)

// The binary with --write-log is killed (SIGKILL) while a create is at
// Stripe, which executes it after the kill. Restarted on the same log, the
// server shows that write in StripeWrites as unknown, with the key that
// makes running the statement again safe; doing so creates nothing more.
// The log holds neither the API key nor the statement's values.
func TestBinaryWriteLogSurvivesKill(t *testing.T) {
	emu := emulator.NewDemo()
	arrived := make(chan string, 1) // the create's Idempotency-Key
	release := make(chan struct{})
	var once sync.Once
	stripe := startFakeStripe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/customers" {
			once.Do(func() {
				arrived <- r.Header.Get("Idempotency-Key")
				<-release // hold the answer until the server is dead
			})
		}
		emu.ServeHTTP(w, r)
	}))
	logPath := t.TempDir() + "/writes.log"
	const key = "sk_test_writelogcanary"
	args := []string{"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", key, "--write-log", logPath}

	p := startBinary(t, nil, args...)
	db := p.mysql(t, "")
	before := emu.Count("customer")
	go db.Exec("INSERT INTO Customers (Name, Email) VALUES ('Killed Mid-Write', 'killed@example.com')")
	idemKey := <-arrived
	p.once.Do(func() { // SIGKILL: no chance to record anything more
		p.cmd.Process.Kill()
		<-p.exited
	})
	close(release)
	stripe.Close() // waits for the held request: Stripe has executed it
	if got := emu.Count("customer"); got != before+1 {
		t.Fatalf("%d customers created, want 1", got-before)
	}

	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key, "Killed", "killed@example.com"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the write log holds %q:\n%s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), `"outcome":"pending"`) || !strings.Contains(string(raw), idemKey) {
		t.Errorf("the write log lacks the pending write with key %s:\n%s", idemKey, raw)
	}

	// Restart on the same log, against the same Stripe account.
	stripe2 := startFakeStripe(t, emu)
	args[3] = stripe2.URL
	p2 := startBinary(t, nil, args...)
	db2 := p2.mysql(t, "")
	rows, err := db2.Query("SELECT Verb, Target, `Row`, Method, Path, IdempotencyKey, Outcome, Statement FROM StripeWrites")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var verb, target, row, method, path, k, outcome, stmt string
		if err := rows.Scan(&verb, &target, &row, &method, &path, &k, &outcome, &stmt); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{verb, target, row, method, path, k, outcome}, " "))
		t.Logf("statement recorded as: %s", stmt)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := "INSERT Customers 1 POST /v1/customers " + idemKey + " unknown"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("StripeWrites after the restart:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), want)
	}

	// The key it shows makes the statement safe to run again.
	base, _, _ := strings.Cut(idemKey, ":")
	conn, err := db2.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SET stripe_idempotency_key = '" + base + "'",
		"INSERT INTO Customers (Name, Email) VALUES ('Killed Mid-Write', 'killed@example.com')",
	} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := emu.Count("customer"); got != before+1 {
		t.Errorf("%d customers after running the statement again with its key, want 1", got-before)
	}
}
