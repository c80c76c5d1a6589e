package main

import (
	"bufio"
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"github.com/stripesql/stripesql/internal/testlog"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// running is run in a goroutine.
type running struct {
	stderr *testlog.Buffer
	stdout *testlog.Buffer
	cancel context.CancelFunc
	done   chan error
}

// startRun calls run(args, env) in a goroutine until the test ends, and
// checks that it then returns nil.
func startRun(t *testing.T, args []string, env map[string]string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stderr: &testlog.Buffer{}, stdout: &testlog.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, args, envOf(env), r.stdout, r.stderr) }()
	t.Cleanup(func() {
		if err := r.stop(t); err != nil {
			t.Errorf("run returned %v after cancel, want nil", err)
		}
	})
	return r
}

// stop cancels run and returns its result; later calls return nil.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
		return nil
	}
}

// firstLine waits for the first complete line run logs.
func (r *running) firstLine(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(r.stderr.String(), "\n"); ok {
			return line
		}
		select {
		case err := <-r.done:
			t.Fatalf("run returned %v before logging; output:\n%s", err, r.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("nothing logged; output so far: %q", r.stderr)
	return ""
}

// waitFor waits until run has logged s.
func (r *running) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("logs lack %q:\n%s", s, r.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var connectRE = regexp.MustCompile(`mysql -h (\S+) -P (\d+) -u (\S+)(?: -p)? (\S+?)"`)

// connectFrom extracts the MySQL address from the connect command in line.
func connectFrom(t *testing.T, line string) (addr, user, database string) {
	t.Helper()
	m := connectRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no mysql command in %q", line)
	}
	return m[1] + ":" + m[2], m[3], m[4]
}

func openDB(t *testing.T, addr, user, database string) *dbsql.DB {
	t.Helper()
	db, err := dbsql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/%s?timeout=5s", user, addr, database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryString(t *testing.T, db *dbsql.DB, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var s string
	if err := db.QueryRowContext(ctx, q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestDemoModeWithoutKey(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0"}, nil)
	line := r.firstLine(t)
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "embedded demo Stripe emulator") {
		t.Errorf("first log line = %q, want it to announce the embedded demo emulator", line)
	}
	addr, user, database := connectFrom(t, line)
	if !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:0" || user != "root" || database != "stripe" {
		t.Errorf("connect command names %s, user %s, database %s; want the bound 127.0.0.1 port, root, stripe", addr, user, database)
	}

	db := openDB(t, addr, user, database)
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Errorf("SELECT 1 = %q", got)
	}
	if got := queryString(t, db, "SELECT @@version_comment"); !strings.Contains(got, "stripesql") {
		t.Errorf("@@version_comment = %q", got)
	}
	// The demo data comes from the in-process emulator.
	if got := queryString(t, db, "SELECT Id FROM Customers LIMIT 1"); !strings.HasPrefix(got, "cus_") {
		t.Errorf("first customer id = %q, want cus_…", got)
	}
}

func TestDemoFlagOverridesKey(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0", "--demo"},
		map[string]string{"STRIPE_API_KEY": "sk_test_unused", "STRIPE_API_BASE": "http://127.0.0.1:1"})
	if line := r.firstLine(t); !strings.Contains(line, "embedded demo Stripe emulator (--demo)") {
		t.Errorf("first log line = %q, want the demo announcement naming --demo", line)
	}
	r.waitFor(t, "level=WARN msg=\"--api-base is ignored in demo mode")
}

func TestKeyModeLogsModeButNotKey(t *testing.T) {
	const key = "sk_live_51verySECRETkey"
	r := startRun(t,
		// Nothing listens on port 1; SELECT 1 makes no Stripe call.
		[]string{"--listen", "127.0.0.1:0", "--api-base", "http://127.0.0.1:1", "--password", "pw-SECRET", "--read-only"},
		map[string]string{"STRIPE_API_KEY": key, "STRIPE_ACCOUNT": "acct_123"})
	line := r.firstLine(t)
	for _, want := range []string{"mode=live", "api_base=http://127.0.0.1:1", "account=acct_123", " -p stripe"} {
		if !strings.Contains(line, want) {
			t.Errorf("first log line = %q, want %q in it", line, want)
		}
	}
	addr, _, _ := connectFrom(t, line)
	db, err := dbsql.Open("mysql", fmt.Sprintf("root:pw-SECRET@tcp(%s)/stripe?timeout=5s", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Errorf("SELECT 1 = %q", got)
	}
	if err := r.stop(t); err != nil {
		t.Errorf("run = %v", err)
	}
	logs := r.stderr.String()
	for _, secret := range []string{"SECRET"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "read-only") {
		t.Errorf("logs do not mention read-only mode:\n%s", logs)
	}
}

func TestListenFailureIsReported(t *testing.T) {
	err := run(context.Background(), []string{"--listen", "127.0.0.1:99999"}, envOf(nil), &testlog.Buffer{}, &testlog.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "listen for MySQL clients") {
		t.Errorf("run = %v, want a listen error", err)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out testlog.Buffer
	if err := run(context.Background(), []string{"version"}, envOf(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "stripesql ") || !strings.Contains(out.String(), "8.0.31-stripesql") {
		t.Errorf("version printed %q", out.String())
	}
	err := run(context.Background(), []string{"frobnicate"}, envOf(nil), &out, &out)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("run frobnicate = %v", err)
	}
}

func TestEmulatorCommand(t *testing.T) {
	r := startRun(t, []string{"emulator", "--listen", "127.0.0.1:0"}, nil)
	line := r.firstLine(t)
	m := regexp.MustCompile(`api_base=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first log line = %q, want api_base=http://127.0.0.1:port", line)
	}
	req, err := http.NewRequest("GET", m[1]+"/v1/customers?limit=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_any")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || page.Object != "list" || len(page.Data) != 1 || !strings.HasPrefix(page.Data[0].ID, "cus_") {
		t.Errorf("GET /v1/customers = %d %+v, want a list with one customer", resp.StatusCode, page)
	}
}

// TestBinary builds stripesql and runs it as a user would: the first line
// on stderr announces the demo, a client connects, SIGINT stops it cleanly.
func TestBinary(t *testing.T) {
	cmd := exec.Command(binary(t), "--listen", "127.0.0.1:0")
	cmd.Env = binaryEnv(nil)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	var first string
	select {
	case first = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("no log line")
	}
	if !strings.Contains(first, "embedded demo Stripe emulator") {
		t.Errorf("first line = %q, want the demo announcement", first)
	}
	addr, user, database := connectFrom(t, first)
	if got := queryString(t, openDB(t, addr, user, database), "SELECT 1"); got != "1" {
		t.Errorf("SELECT 1 = %q", got)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Every line is read before Wait, which closes the pipe once the
	// process has exited: called alongside the reads, it could close it
	// before the last line ("stopped") was read, and the test then saw
	// none.
	var rest []string
	deadline := time.After(15 * time.Second)
	for reading := true; reading; {
		select {
		case l, ok := <-lines:
			if !ok {
				reading = false
				break
			}
			rest = append(rest, l)
		case <-deadline:
			t.Fatalf("still running 15s after SIGINT; its last lines:\n%s", strings.Join(rest, "\n"))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGINT: %v\n%s", err, strings.Join(rest, "\n"))
	}
	if len(rest) == 0 || !strings.Contains(rest[len(rest)-1], "stopped") {
		t.Errorf("last lines %q, want it to end with stopped", rest)
	}
}

// A second instance on a busy port is told how to pick another.
func TestBusyPortNamesTheWaysToChooseAnother(t *testing.T) {
	r := startRun(t, []string{"--listen", "127.0.0.1:0"}, nil)
	addr, _, _ := connectFrom(t, r.firstLine(t))
	err := run(context.Background(), []string{"--listen", addr}, envOf(nil), &testlog.Buffer{}, &testlog.Buffer{})
	if err == nil {
		t.Fatal("a second server on a busy port started")
	}
	for _, want := range []string{"listen for MySQL clients on " + addr, "already in use", "--listen", "STRIPESQL_LISTEN", "make run ARGS="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// The line giving the address is logged at every verbosity, even 1
// (errors only), so that the port of --listen 127.0.0.1:0 can be learnt.
func TestAddressLoggedAtEveryVerbosity(t *testing.T) {
	for _, v := range []string{"1", "2"} {
		for _, format := range []string{"text", "json"} {
			r := startRun(t, []string{"--listen", "127.0.0.1:0", "--verbosity", v, "--log-format", format}, nil)
			line := r.firstLine(t)
			if !strings.Contains(line, "embedded demo Stripe emulator") || !strings.Contains(line, "127.0.0.1:") || !strings.Contains(line, "INFO") {
				t.Errorf("verbosity %s, %s: first line = %q, want the INFO line with the address", v, format, line)
			}
			if err := r.stop(t); err != nil {
				t.Errorf("run = %v", err)
			}
		}
	}
}
