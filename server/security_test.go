package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	dbsql "database/sql"
	"database/sql/driver"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/go-sql-driver/mysql"
)

// selfSigned returns a certificate for 127.0.0.1 and a client TLS
// configuration that trusts it (and nothing else).
func selfSigned(t *testing.T) (*Certificate, *tls.Config) {
	t.Helper()
	cert, err := SelfSigned([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cert.PEM()) {
		t.Fatal("generated certificate does not parse as PEM")
	}
	return cert, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// openAs connects as user; tlsCfg nil means plaintext.
func (ts *testServer) openAs(t *testing.T, user, password string, tlsCfg *tls.Config) *dbsql.DB {
	t.Helper()
	c, err := mysql.ParseDSN(ts.dsn(user, password))
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		c.TLS = tlsCfg
	}
	db, err := dbsql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		// FormatDSN cannot carry a *tls.Config: use a connector.
		db.Close()
		conn, err := mysql.NewConnector(c)
		if err != nil {
			t.Fatal(err)
		}
		db = dbsql.OpenDB(conn)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// commandDenied is the code go-mysql-server gives its privilege refusals
// ("command denied to user …"); MySQL's would be 1142.
const commandDenied = 1105

// mustExec runs statements as the admin, failing the test on error.
func mustExec(t *testing.T, db *dbsql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// wantCode fails unless err is a MySQL error with code.
func wantCode(t *testing.T, what string, err error, code uint16) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want MySQL error %d", what, code)
		return
	}
	if me := mysqlError(t, err); me.Number != code {
		t.Errorf("%s: error %d %q, want %d", what, me.Number, me.Message, code)
	}
}

func TestTLSWithGoDriver(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	ts := start(t, Config{TLS: cert, RequireSecureTransport: true})
	db := ts.openAs(t, ts.user, ts.password, clientTLS)
	if got := queryStrings(t, db, "SELECT @@have_ssl"); len(got) != 1 || got[0] != "YES" {
		t.Errorf("@@have_ssl = %v, want YES", got)
	}

	// caching_sha2_password's full authentication sends the password,
	// which the server accepts only over TLS.
	mustExec(t, db,
		"CREATE USER 'carol'@'%' IDENTIFIED WITH caching_sha2_password BY 'Carol-pw-1'",
		"GRANT SELECT ON shop.* TO 'carol'@'%'")
	carol := ts.openAs(t, "carol", "Carol-pw-1", clientTLS)
	if got := queryStrings(t, carol, "SELECT name FROM items ORDER BY id"); strings.Join(got, ",") != "apple,pear" {
		t.Errorf("carol over TLS read %v", got)
	}

	plain := ts.openAs(t, ts.user, ts.password, nil)
	err := plain.Ping()
	if err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Errorf("plaintext client under RequireSecureTransport: %v, want a refusal naming insecure transport", err)
	}

	// A client that does not trust the certificate refuses the server.
	other, _ := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(other.PEM())
	untrusting := ts.openAs(t, ts.user, ts.password, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := untrusting.Ping(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("client trusting another CA: %v, want a certificate error", err)
	}
}

func TestTLSWithMysqlCLIVerifyingTheCA(t *testing.T) {
	bin, err := exec.LookPath("mysql")
	if err != nil {
		t.Skip("no mysql client installed")
	}
	cert, _ := selfSigned(t)
	ts := start(t, Config{TLS: cert, RequireSecureTransport: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, cert.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	host, p, _ := strings.Cut(ts.Addr().String(), ":")
	args := []string{"-h", host, "-P", p, "-u", ts.user, "--password=" + ts.password, "-N", "-B"}
	// The mysql client here may be MariaDB's, which spells
	// --ssl-mode=VERIFY_CA as --ssl-ca with --ssl-verify-server-cert.
	verify := []string{"--ssl-ca=" + ca, "--ssl-verify-server-cert"}
	if out, err := exec.Command(bin, "--help").CombinedOutput(); err == nil && strings.Contains(string(out), "--ssl-mode") {
		verify = []string{"--ssl-ca=" + ca, "--ssl-mode=VERIFY_CA"}
	}
	out, err := exec.Command(bin, append(append(args, verify...), "-e", "SELECT @@have_ssl", "shop")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "YES" {
		t.Errorf("mysql verifying the CA: %v\n%s", err, out)
	}

	out, err = exec.Command(bin, append(args, "--skip-ssl", "-e", "SELECT 1", "shop")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "insecure") {
		t.Errorf("plaintext mysql client: %v\n%s, want a refusal", err, out)
	}
}

func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func() string {
		c, err := SelfSigned([]string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		key, err := x509.MarshalPKCS8PrivateKey(c.current().PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(certFile, c.PEM(), 0o600)
		os.WriteFile(keyFile, pemBlock("PRIVATE KEY", key), 0o600)
		return c.Fingerprint()
	}
	first := write()
	c, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() != first {
		t.Fatalf("loaded %s, wrote %s", c.Fingerprint(), first)
	}
	served := func() string {
		got, err := c.TLSConfig().GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return (&Certificate{cert: got}).Fingerprint()
	}
	second := write()
	if served() != first {
		t.Error("certificate changed before Reload")
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if served() != second || second == first {
		t.Errorf("after Reload serving %s, want %s", served(), second)
	}
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	if err := c.Reload(); err == nil {
		t.Error("Reload of a broken key succeeded")
	}
	if served() != second {
		t.Error("a failed Reload dropped the working certificate")
	}
	if len(strings.Split(first, ":")) != 32 {
		t.Errorf("fingerprint %q is not 32 hex bytes", first)
	}
}

func TestUsersAndGrantsSurviveRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.db")
	cfg := Config{UsersFile: file, Procedures: testProcedures()}
	first := start(t, cfg)
	admin := first.open(t)
	mustExec(t, admin,
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-pw-1'",
		"GRANT SELECT, EXECUTE ON shop.* TO 'reader'@'%'",
		"CREATE USER 'tab'@'%' IDENTIFIED BY 'Tab-pw-1'",
		"GRANT SELECT ON shop.items TO 'tab'@'%'",
		"CREATE USER 'writer'@'%' IDENTIFIED BY 'Writer-pw-1'",
		"GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE ON shop.* TO 'writer'@'%'",
		"CREATE ROLE 'readonly'",
		"GRANT SELECT, EXECUTE ON shop.* TO 'readonly'",
		"CREATE USER 'analyst'@'%' IDENTIFIED BY 'Analyst-pw-1'",
		"GRANT 'readonly' TO 'analyst'@'%'")
	admin.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v, want 0600", st.Mode().Perm())
	}

	second := start(t, cfg)
	reader := second.openAs(t, "reader", "Reader-pw-1", nil)
	if got := queryStrings(t, reader, "SELECT name FROM items ORDER BY id"); strings.Join(got, ",") != "apple,pear" {
		t.Errorf("reader after restart read %v", got)
	}
	if got := queryStrings(t, reader, "CALL MyProc('r')"); len(got) != 1 || got[0] != "hello r" {
		t.Errorf("reader CALL MyProc = %v", got)
	}
	for _, c := range []struct {
		stmt string
		code uint16
	}{
		{"INSERT INTO items VALUES (3, 'plum')", commandDenied},
		{"UPDATE items SET name = 'x'", commandDenied},
		{"DELETE FROM items", commandDenied},
		{"CALL Touch()", erProcAccessDenied},
		{"SET GLOBAL max_execution_time = 5", 1227},
		{"SET @@global.sql_mode = ''", 1227},
		{"CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", commandDenied},
	} {
		_, err := reader.Exec(c.stmt)
		wantCode(t, "reader: "+c.stmt, err, c.code)
		if c.code == commandDenied && err != nil && !strings.Contains(err.Error(), "command denied") {
			t.Errorf("reader: %s: %v, want command denied", c.stmt, err)
		}
	}
	// Session variables stay the user's own business.
	if _, err := reader.Exec("SET max_execution_time = 5000"); err != nil {
		t.Errorf("reader SET (session): %v", err)
	}

	// The read-only role, through a user it was granted to: reads and the
	// procedures that read, nothing that writes.
	analyst := second.openAs(t, "analyst", "Analyst-pw-1", nil)
	if got := queryStrings(t, analyst, "CALL MyProc('a')"); len(got) != 1 || got[0] != "hello a" {
		t.Errorf("analyst (role readonly) CALL MyProc = %v", got)
	}
	_, err = analyst.Exec("CALL Touch()")
	wantCode(t, "analyst (role readonly): CALL Touch()", err, erProcAccessDenied)
	_, err = analyst.Exec("DELETE FROM items")
	wantCode(t, "analyst (role readonly): DELETE", err, commandDenied)

	tab := second.openAs(t, "tab", "Tab-pw-1", nil)
	if got := queryStrings(t, tab, "SELECT name FROM items WHERE id = 1"); len(got) != 1 || got[0] != "apple" {
		t.Errorf("per-table grant: read %v", got)
	}
	_, err = tab.Exec("CALL MyProc('t')")
	wantCode(t, "tab without EXECUTE: CALL", err, commandDenied)

	writer := second.openAs(t, "writer", "Writer-pw-1", nil)
	if got := queryStrings(t, writer, "CALL Touch()"); len(got) != 1 || got[0] != "hello touched" {
		t.Errorf("writer CALL Touch = %v", got)
	}
	if _, err := writer.Exec("INSERT INTO items VALUES (3, 'plum')"); err != nil {
		t.Errorf("writer INSERT: %v", err)
	}

	// The configured account is never stored: its password is the
	// configuration's, at every start.
	third := start(t, Config{UsersFile: file, User: "alice", Password: "changed-pw"})
	if got := queryStrings(t, third.openAs(t, "alice", "changed-pw", nil), "SELECT 1"); len(got) != 1 {
		t.Error("configured account with its new password refused")
	}
	if err := third.openAs(t, "alice", "s3cret", nil).Ping(); err == nil {
		t.Error("configured account's old password still accepted")
	}
}

func TestUsersFileReadableByOthersIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.db")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{Database: newShopDB(t), UsersFile: file, Listen: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("New with a 0644 users file: %v, want a refusal saying chmod 600", err)
	}
}

func TestProcessListShowsOthersOnlyWithProcess(t *testing.T) {
	ts := start(t, Config{})
	admin := ts.open(t)
	mustExec(t, admin,
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-pw-1'",
		"GRANT SELECT ON shop.* TO 'reader'@'%'",
		"CREATE USER 'watcher'@'%' IDENTIFIED BY 'Watcher-pw-1'",
		"GRANT SELECT, PROCESS ON *.* TO 'watcher'@'%'")
	reader := ts.openAs(t, "reader", "Reader-pw-1", nil)
	reader.SetMaxOpenConns(1)
	watcher := ts.openAs(t, "watcher", "Watcher-pw-1", nil)
	watcher.SetMaxOpenConns(1)

	users := func(db *dbsql.DB, q string) map[string]bool {
		out := make(map[string]bool)
		for _, u := range queryStrings(t, db, q) {
			out[u] = true
		}
		return out
	}
	for _, q := range []string{"SELECT user FROM information_schema.processlist"} {
		if got := users(reader, q); !got["reader"] || got["alice"] || got["watcher"] {
			t.Errorf("reader sees the processes of %v, want only its own", got)
		}
		if got := users(watcher, q); !got["reader"] || !got["alice"] || !got["watcher"] {
			t.Errorf("watcher with PROCESS sees %v, want everyone", got)
		}
	}
	// go-mysql-server asks for PROCESS for SHOW PROCESSLIST itself
	// (MySQL shows a user's own rows instead).
	_, err := reader.Query("SHOW PROCESSLIST")
	wantCode(t, "reader: SHOW PROCESSLIST", err, commandDenied)
	if got := queryStrings(t, watcher, "SELECT COUNT(DISTINCT user) FROM information_schema.processlist"); len(got) != 1 || got[0] != "3" {
		t.Errorf("watcher sees the connections of %v users, want 3", got)
	}

	// The statement listing the processes is itself one: its password
	// literal is masked.
	got := queryStrings(t, watcher, "SELECT info FROM information_schema.processlist WHERE user = 'watcher' /* IDENTIFIED BY 'Secret-in-processlist' */")
	if len(got) != 1 || strings.Contains(got[0], "Secret-in-processlist") || !strings.Contains(got[0], "IDENTIFIED BY '***'") {
		t.Errorf("processlist shows %q, want the password masked", got)
	}

	var adminID int64
	conn, err := admin.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&adminID)
	_, err = reader.Exec(fmt.Sprintf("KILL QUERY %d", adminID))
	wantCode(t, "reader: KILL QUERY of alice's connection", err, commandDenied)
	// PROCESS lets one see other users' statements, not end them
	// (go-mysql-server asks for SUPER).
	_, err = watcher.Exec(fmt.Sprintf("KILL QUERY %d", adminID))
	wantCode(t, "watcher: KILL QUERY of alice's connection", err, commandDenied)
}

// registerBudget adds the integer variable test_budget (default 10) to
// GMS's process-wide registry.
var registerBudget = sync.OnceFunc(func() {
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{&sql.MysqlSystemVariable{
		Name: "test_budget", Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
		Type: types.NewSystemIntType("test_budget", 0, 1<<31, false), Default: int64(10),
	}})
})

func TestCappedVariableMayOnlyBeLowered(t *testing.T) {
	registerBudget()
	ts := start(t, Config{CappedVariables: []string{"test_budget"}})
	admin := ts.open(t)
	mustExec(t, admin,
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-pw-1'",
		"GRANT SELECT ON shop.* TO 'reader'@'%'")
	reader := ts.openAs(t, "reader", "Reader-pw-1", nil)
	reader.SetMaxOpenConns(1)
	mustExec(t, reader, "SET test_budget = 5", "SET test_budget = 10", "SET test_budget = DEFAULT")
	for _, s := range []string{"SET test_budget = 11", "SET test_budget = 0", "SET SESSION test_budget = 1000", "SET GLOBAL test_budget = 1"} {
		_, err := reader.Exec(s)
		wantCode(t, "reader: "+s, err, 1227)
	}
	if got := queryStrings(t, reader, "SELECT @@test_budget"); len(got) != 1 || got[0] != "10" {
		t.Errorf("after refused raises test_budget = %v, want 10", got)
	}
	admin.SetMaxOpenConns(1)
	mustExec(t, admin, "SET test_budget = 0", "SET test_budget = 1000")
	if got := queryStrings(t, admin, "SELECT @@test_budget"); len(got) != 1 || got[0] != "1000" {
		t.Errorf("admin's raise: test_budget = %v, want 1000", got)
	}
}

func TestMaxExecutionTime(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	_, err = conn.ExecContext(ctx, "SELECT /*+ MAX_EXECUTION_TIME(100) */ SLEEP(10)")
	wantCode(t, "hint", err, 3024)

	if _, err := conn.ExecContext(ctx, "SET max_execution_time = 100"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT SLEEP(10)")
	wantCode(t, "session max_execution_time", err, 3024)
	// Writes are not cut short (MySQL limits SELECT only); a quick one is fine.
	if _, err := conn.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Errorf("quick query under the limit: %v", err)
	}

	// The global value is what new sessions start with (an admin sets it).
	mustExec(t, db, "SET GLOBAL max_execution_time = 100")
	t.Cleanup(func() { sql.SystemVariables.SetGlobal(sql.NewEmptyContext(), "max_execution_time", int64(0)) })
	fresh, err := ts.open(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	_, err = fresh.ExecContext(ctx, "SELECT SLEEP(10)")
	wantCode(t, "global max_execution_time", err, 3024)
}

// longSum is SELECT 1+1+…+1 with n additions: go-mysql-server's analysis
// of it takes time quadratic in n (minutes for 100 KB) and never looks at
// the query's context.
func longSum(n int) string { return "SELECT " + strings.Repeat("1+", n) + "1" }

func TestLongExpressionIsCancelledAtTheTimeLimit(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The abandoned analysis goes on in the background; this connection
	// would wait for it, so it is discarded rather than reused.
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	if _, err := conn.ExecContext(ctx, "SET max_execution_time = 1000"); err != nil {
		t.Fatal(err)
	}
	q := longSum(50_000) // 100 KB
	if len(q) < 100_000 {
		t.Fatalf("query is %d bytes", len(q))
	}
	began := time.Now()
	_, err = conn.ExecContext(ctx, q)
	wantCode(t, "100 KB expression", err, 3024)
	t.Logf("%d-byte expression under max_execution_time = 1000: error after %v", len(q), time.Since(began).Round(time.Millisecond))
}

func TestLongExpressionIsCancelledWhenPrepared(t *testing.T) {
	ts := start(t, Config{})
	ctx := context.Background()
	conn, err := ts.open(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	if _, err := conn.ExecContext(ctx, "SET max_execution_time = 500"); err != nil {
		t.Fatal(err)
	}
	// An argument makes the driver prepare the statement (COM_STMT_PREPARE).
	_, err = conn.ExecContext(ctx, longSum(20_000)+" + ?", 1)
	wantCode(t, "prepared 40 KB expression", err, 3024)
}

func TestKillQueryInterruptsAnalysis(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	ctx := context.Background()
	victim, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Raw(func(any) error { return driver.ErrBadConn })
	var id int64
	if err := victim.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		// 40 KB: tens of seconds of analysis, far more than the bound below.
		_, err := victim.ExecContext(ctx, longSum(20_000))
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the statement reach the server
	killed := time.Now()
	if _, err := db.Exec(fmt.Sprintf("KILL QUERY %d", id)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		wantCode(t, "killed analysis", err, 1317)
		t.Logf("statement ended %v after KILL QUERY", time.Since(killed).Round(time.Millisecond))
	case <-time.After(10 * time.Second): // generous: the promise is one second
		t.Fatal("KILL QUERY did not end the statement")
	}
}

func TestFailedLoginsSlowTheAddressDown(t *testing.T) {
	ts := start(t, Config{})
	g := ts.handler.Handler.(*loginGuard)
	var (
		mu     sync.Mutex
		delays []time.Duration
	)
	g.sleep = func(d time.Duration) {
		mu.Lock()
		delays = append(delays, d)
		mu.Unlock()
	}
	for range 6 {
		bad := ts.openAs(t, ts.user, "wrong", nil)
		if err := bad.Ping(); err == nil {
			t.Fatal("wrong password accepted")
		}
		bad.Close()
	}
	mu.Lock()
	got := fmt.Sprint(delays)
	mu.Unlock()
	// Failures 4, 5 and 6 wait after failing; connections 5 and 6 also wait
	// before their handshake.
	if want := "[250ms 250ms 500ms 500ms 1s]"; got != want {
		t.Errorf("delays %s, want %s", got, want)
	}
	if err := ts.open(t).Ping(); err != nil {
		t.Fatal(err)
	}
	if d := g.delay("127.0.0.1"); d != 0 {
		t.Errorf("after a successful login the delay is %v, want 0", d)
	}
}

func TestLoginDelayGrows(t *testing.T) {
	var got []string
	for n := 1; n <= 12; n++ {
		got = append(got, loginDelay(n).String())
	}
	want := "0s 0s 0s 250ms 500ms 1s 2s 4s 8s 16s 30s 30s"
	if strings.Join(got, " ") != want {
		t.Errorf("delays %s, want %s", strings.Join(got, " "), want)
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
