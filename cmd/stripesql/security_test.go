package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	dbsql "database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/emulator"
)

func TestOffLoopbackWithoutPasswordRefusesToStart(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"--listen", "0.0.0.0:0"}, envOf(nil), &strings.Builder{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "without a MySQL password") || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("run on 0.0.0.0 without a password: %v, want a refusal saying how to fix it", err)
	}
}

func TestInsecureStartsAndWarns(t *testing.T) {
	r := startRun(t, []string{"--listen", "0.0.0.0:0", "--insecure"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	r.waitFor(t, "level=WARN msg=\"--insecure")
	// Plaintext and no password: what --insecure allows.
	if got := queryString(t, openDB(t, addr, user, database), "SELECT @@have_ssl"); got != "YES" {
		t.Errorf("@@have_ssl = %q, want YES (TLS offered even when not required)", got)
	}
}

func TestOffLoopbackRequiresTLSAndLogsFingerprint(t *testing.T) {
	r := startRun(t, []string{"--listen", "0.0.0.0:0"}, map[string]string{"STRIPESQL_PASSWORD": "Off-loopback-pw-1"})
	addr, user, database := connectFrom(t, r.firstLine(t))
	r.waitFor(t, "self-signed certificate")
	if !strings.Contains(r.stderr.String(), "sha256=") || !strings.Contains(r.stderr.String(), "require_secure_transport=true") {
		t.Errorf("no fingerprint or requirement logged:\n%s", r.stderr)
	}
	db, err := dbsql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&tls=false", user, "Off-loopback-pw-1", addr, database))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Errorf("plaintext client off loopback: %v, want refused", err)
	}
	tlsDB, err := dbsql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&tls=skip-verify", user, "Off-loopback-pw-1", addr, database))
	if err != nil {
		t.Fatal(err)
	}
	defer tlsDB.Close()
	if got := queryString(t, tlsDB, "SELECT @@have_ssl"); got != "YES" {
		t.Errorf("over TLS: @@have_ssl = %q", got)
	}
}

// writeCert writes a fresh self-signed certificate and key for 127.0.0.1
// as PEM files and returns the certificate's SHA-256 fingerprint as the
// server logs it.
func writeCert(t *testing.T, certFile, keyFile string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func TestSIGHUPReloadsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile)
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--require-secure-transport"}, nil)
	r.waitFor(t, "sha256="+first)
	second := writeCert(t, certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, `msg="TLS certificate reloaded" sha256=`+second)
}

// countingStripe serves the demo emulator over HTTP with a latency per
// answer, counting the requests.
type countingStripe struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func newCountingStripe(t *testing.T, latency time.Duration) *countingStripe {
	e := emulator.NewDemo()
	e.SetLimits(emulator.Limits{Latency: latency})
	c := &countingStripe{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *countingStripe) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// idList is "'cus_missing0', …" with n ids that do not exist.
func idList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("'cus_missing%d'", i)
	}
	return strings.Join(ids, ", ")
}

func TestDefaultCallCapIsFiniteAndOnlyAnAdminRaisesIt(t *testing.T) {
	stripe := newCountingStripe(t, 0)
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", "sk_test_cap"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	admin := openDB(t, addr, user, database)
	if got := queryString(t, admin, "SELECT @@stripe_max_calls"); got != "1000" {
		t.Errorf("default stripe_max_calls = %s, want 1000", got)
	}
	before := stripe.count()
	_, err := admin.Exec("SELECT Id FROM Customers WHERE Id IN (" + idList(1500) + ")")
	if err == nil || !strings.Contains(err.Error(), "stripe_max_calls") {
		t.Errorf("1,500 retrieves under the default cap: %v, want refused naming stripe_max_calls", err)
	}
	if n := stripe.count() - before; n != 0 {
		t.Errorf("the refused query sent %d requests, want 0", n)
	}

	for _, s := range []string{"CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-pw-1'", "GRANT SELECT ON stripe.* TO 'reader'@'%'"} {
		if _, err := admin.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	reader, err := dbsql.Open("mysql", fmt.Sprintf("reader:Reader-pw-1@tcp(%s)/%s?timeout=5s", addr, database))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	reader.SetMaxOpenConns(1)
	if _, err := reader.Exec("SET stripe_max_calls = 10"); err != nil {
		t.Errorf("reader lowering the cap: %v", err)
	}
	for _, s := range []string{"SET stripe_max_calls = 5000", "SET stripe_max_calls = 0", "SET GLOBAL stripe_max_calls = 5000", "SET GLOBAL stripe_account = 'acct_other'"} {
		_, err := reader.Exec(s)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1227 {
			t.Errorf("reader: %s: %v, want error 1227", s, err)
		}
	}
}

func TestMaxExecutionTimeStopsStripeRequests(t *testing.T) {
	const latency = 100 * time.Millisecond
	stripe := newCountingStripe(t, latency)
	// One request at a time, so that the count says how long it ran.
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", "sk_test_met", "--max-concurrency", "1"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	db := openDB(t, addr, user, database)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "SET max_execution_time = 500"); err != nil {
		t.Fatal(err)
	}
	before := stripe.count()
	// 50 retrieves, 5 s one after another.
	_, err = conn.ExecContext(context.Background(), "SELECT Id FROM Customers WHERE Id IN ("+idList(50)+")")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 3024 {
		t.Fatalf("query past max_execution_time: %v, want error 3024", err)
	}
	sent := stripe.count() - before
	time.Sleep(3 * latency)
	after := stripe.count() - before
	t.Logf("%d of 50 requests sent before the 500 ms limit stopped the query; %d after waiting", sent, after)
	// 500 ms at 100 ms a request is 5; one more may have been under way.
	if sent > 7 {
		t.Errorf("%d requests sent within a 500 ms limit at %v each, want at most 7", sent, latency)
	}
	if after != sent {
		t.Errorf("%d requests after the query ended, %d when it did: requests went on", after, sent)
	}
}

func TestPasswordsSetThroughSQLAreNeverLogged(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--verbosity", "5"}, nil)
	addr, user, database := connectFrom(t, r.firstLine(t))
	db := openDB(t, addr, user, database)
	passwords := []string{"Pw-create-1", "Pw-alter-2", "Pw-set-3", "Pw-sha2-4", "Pw-dup-5", "Pw-bad-6", "Pw-wrong-7"}
	for _, s := range []string{
		"CREATE USER 'u1'@'%' IDENTIFIED BY 'Pw-create-1'",
		"GRANT SELECT ON stripe.* TO 'u1'@'%'",
		"ALTER USER 'u1'@'%' IDENTIFIED BY 'Pw-alter-2'",
		"SET PASSWORD FOR 'u1'@'%' = 'Pw-set-3'",
		"CREATE USER 'u2'@'%' IDENTIFIED WITH caching_sha2_password BY 'Pw-sha2-4'",
		"CREATE USER 'u1'@'%' IDENTIFIED BY 'Pw-dup-5'",            // fails: exists
		"CREATE USER 'u3'@'%' IDENTIFIED BY 'Pw-bad-6' NONSENSE ,", // fails: syntax
	} {
		db.Exec(s) // some fail on purpose; the failures are logged too
	}
	bad, _ := dbsql.Open("mysql", fmt.Sprintf("u1:Pw-wrong-7@tcp(%s)/%s?timeout=5s", addr, database))
	bad.Ping()
	bad.Close()
	r.waitFor(t, `msg="login failed" user=u1`)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	logs := r.stderr.String()
	if !strings.Contains(logs, "IDENTIFIED BY '***'") {
		t.Errorf("no masked statement logged: the test would pass without looking at one\n%s", logs)
	}
	lines := strings.Split(logs, "\n")
	for _, line := range lines {
		for _, pw := range passwords {
			if strings.Contains(line, pw) {
				t.Errorf("password %s logged: %s", pw, line)
			}
		}
	}
	t.Logf("%d log lines at verbosity 5 checked for %d passwords", len(lines), len(passwords))
}
