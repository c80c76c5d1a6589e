package main

// Tests of the built binary: each setting as a user gives it, through the
// config file, the environment and flags, against an emulator (and a
// proxy) running in the test process.

import (
	"bufio"
	"bytes"
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/internal/testproxy"
)

var (
	buildOnce sync.Once
	binDir    string // holds the binary; removed by TestMain
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds stripesql once per test binary and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "stripesql-test"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "stripesql")
		build := exec.Command("go", "build", "-tags", "gms_pure_go", "-o", binPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// binaryEnv is this process's environment without the variables that
// configure stripesql or a proxy, plus extra.
func binaryEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch up := strings.ToUpper(name); {
		case strings.HasPrefix(up, "STRIPE"), strings.HasSuffix(up, "_PROXY"), up == "SSL_CERT_FILE", up == "SSL_CERT_DIR":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// runBinary runs a command of the binary to completion.
func runBinary(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = binaryEnv(env)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// proc is a running stripesql serve.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	eof    chan struct{} // closed when stderr ends
	exited chan error
	once   sync.Once // stops it
}

// startBinary starts the binary serving, stopping it (SIGINT) when the
// test ends.
func startBinary(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), eof: make(chan struct{}), exited: make(chan error, 1)}
	p.cmd.Env = binaryEnv(env)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.eof)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 16<<20) // wire log lines hold whole response bodies
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
	}()
	go func() {
		<-p.eof
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// logs returns the lines logged so far.
func (p *proc) logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

// waitLine waits for a logged line containing s and returns it.
func (p *proc) waitLine(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range p.logs() {
			if strings.Contains(l, s) {
				return l
			}
		}
		select {
		case <-p.eof:
			t.Fatalf("stripesql exited without logging %q:\n%s", s, strings.Join(p.logs(), "\n"))
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no line with %q in:\n%s", s, strings.Join(p.logs(), "\n"))
	return ""
}

// stop interrupts the binary, checks it exits cleanly, and returns all
// its log lines. Later calls just return the lines.
func (p *proc) stop(t *testing.T) []string {
	t.Helper()
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("exit after SIGINT: %v\n%s", err, strings.Join(p.logs(), "\n"))
			}
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("still running 15s after SIGINT")
		}
	})
	return p.logs()
}

// mysql connects to the server the first log line announces.
func (p *proc) mysql(t *testing.T, password string) *dbsql.DB {
	t.Helper()
	addr, user, database := connectFrom(t, p.waitLine(t, "mysql -h "))
	db, err := dbsql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s", user, password, addr, database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fakeStripe is an emulator (or any handler) served over HTTP in the test
// process, recording the Authorization headers and the peak concurrency.
type fakeStripe struct {
	*httptest.Server
	emu   *emulator.Emulator
	delay time.Duration

	mu       sync.Mutex
	auth     []string
	inFlight int
	peak     int
}

func startFakeStripe(t *testing.T, h http.Handler) *fakeStripe {
	t.Helper()
	f := &fakeStripe{}
	if h == nil {
		f.emu = emulator.NewDemo()
		h = f.emu
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.inFlight++
		f.peak = max(f.peak, f.inFlight)
		f.mu.Unlock()
		time.Sleep(f.delay)
		h.ServeHTTP(w, r)
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeStripe) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auth)
}

func (f *fakeStripe) peakInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBinaryHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		out, errOut, err := runBinary(t, map[string]string{"STRIPE_API_KEY": "sk_live_HelpCanary"}, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut)
		}
		checkHelp(t, out)
		if strings.Contains(out+errOut, "HelpCanary") {
			t.Errorf("%v shows the key from the environment", args)
		}
	}
}

// TestBinaryConfigPrecedence sets every setting in a config file, then also
// in the environment, then also by flag, and checks "stripesql config"
// reports the winning value and its source for each, secrets redacted.
func TestBinaryConfigPrecedence(t *testing.T) {
	for level := range 3 {
		file, env, args := layers(t, level)
		out, errOut, err := runBinary(t, env, append([]string{"config", "--config", file}, args...)...)
		if err != nil {
			t.Fatalf("level %d: %v\n%s", level, err, errOut)
		}
		checkConfigOutput(t, out, file, level, nil)
	}
	// A bad value is refused, naming its source but not the value.
	_, errOut, err := runBinary(t, map[string]string{"STRIPESQL_BURST": "sk_live_oops"}, "config")
	if err == nil || !strings.Contains(errOut, "stripesql: invalid value for --burst (from env STRIPESQL_BURST)") || strings.Contains(errOut, "oops") {
		t.Errorf("bad burst: %v, stderr %q", err, errOut)
	}
}

// TestBinaryKeyFileAndAccount serves a Stripe "account" (the emulator)
// with the key from a file and a Connect account: every request carries
// both, and the logs show the mode but not the key.
func TestBinaryKeyFileAndAccount(t *testing.T) {
	const key = "sk_test_51KeyFromFILEcanary"
	stripe := startFakeStripe(t, nil)
	keyFile := writeFile(t, "key", key+"\n")
	p := startBinary(t, map[string]string{"STRIPE_API_KEY": "sk_test_fromENVloses", "STRIPE_ACCOUNT": "acct_1Connect"},
		"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key-file", keyFile)
	line := p.waitLine(t, "connect=")
	for _, want := range []string{"msg=\"serving a Stripe account\"", "mode=test", "key=secret", "account=acct_1Connect", "proxy=none"} {
		if !strings.Contains(line, want) {
			t.Errorf("first line %q lacks %q", line, want)
		}
	}
	db := p.mysql(t, "")
	if got := queryString(t, db, "SELECT Id FROM Customers LIMIT 1"); !strings.HasPrefix(got, "cus_") {
		t.Errorf("first customer = %q", got)
	}
	queryCount(t, db, "SELECT COUNT(*) FROM Customers WHERE Id = 'cus_missing'")
	if got := queryString(t, db, "SELECT @@stripe_account"); got != "acct_1Connect" {
		t.Errorf("@@stripe_account = %q, want the --account default acct_1Connect", got)
	}

	reqs := stripe.emu.Requests()
	if len(reqs) < 2 {
		t.Fatalf("emulator saw %d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Account != "acct_1Connect" {
			t.Errorf("%s %s: Stripe-Account %q, want acct_1Connect", r.Method, r.Path, r.Account)
		}
	}
	for _, a := range stripe.authorizations() {
		if a != "Bearer "+key {
			t.Errorf("Authorization %q, want the key from the file without its newline", a)
		}
	}
	for _, l := range p.stop(t) {
		if strings.Contains(l, "canary") || strings.Contains(l, "ENVloses") {
			t.Errorf("log line shows a key: %s", l)
		}
	}
}

// TestBinaryProxy runs the binary through a proxy that requires Basic or
// Digest credentials, in each SSL mode, to an HTTP emulator whose host name
// only the proxy can resolve; and once with the proxy from HTTP_PROXY.
func TestBinaryProxy(t *testing.T) {
	const user, password = "px-user", "px-PW-canary-77"
	for _, auth := range []string{"basic", "digest"} {
		for _, ssl := range []string{"auto", "always", "never", "tunnel"} {
			t.Run(auth+"/"+ssl, func(t *testing.T) {
				t.Parallel()
				stripe := startFakeStripe(t, nil)
				target, resolve := proxiedName(stripe.URL)
				proxy := testproxy.Start(t, testproxy.Config{Auth: auth, User: user, Password: password, TLS: ssl == "always", Resolve: resolve})
				env := map[string]string{}
				proxyURL := "http://" + proxy.Addr()
				switch ssl {
				case "always": // TLS although the URL says http; trust the proxy's certificate
					env["SSL_CERT_FILE"] = writeFile(t, "proxy.pem", string(testproxy.CertPEM()))
				case "never": // no TLS although the URL says https
					proxyURL = "https://" + proxy.Addr()
				}
				args := []string{"--listen", "127.0.0.1:0", "--api-base", "http://" + target, "--api-key", "sk_test_proxy",
					"--proxy", proxyURL, "--proxy-user", user, "--proxy-auth", auth, "--proxy-ssl", ssl}
				if auth == "basic" {
					env["STRIPESQL_PROXY_PASSWORD"] = password
				} else {
					args = append(args, "--proxy-password-file", writeFile(t, "pw", password+"\n"))
				}
				p := startBinary(t, env, args...)
				if line := p.waitLine(t, "connect="); !strings.Contains(line, "proxy=\""+proxyURL+" ("+auth+", ssl "+ssl+")\"") {
					t.Errorf("first line %q does not describe the proxy", line)
				}
				db := p.mysql(t, "")
				if got := queryString(t, db, "SELECT Id FROM Customers LIMIT 1"); !strings.HasPrefix(got, "cus_") {
					t.Errorf("first customer = %q", got)
				}
				if len(stripe.emu.Requests()) == 0 {
					t.Fatal("the emulator saw no request")
				}
				checkProxied(t, proxy.Entries(), auth, ssl == "tunnel", ssl == "always", target)
				for _, l := range p.stop(t) {
					if strings.Contains(l, password) {
						t.Errorf("log line shows the proxy password: %s", l)
					}
				}
			})
		}
	}
	t.Run("HTTP_PROXY", func(t *testing.T) {
		t.Parallel()
		stripe := startFakeStripe(t, nil)
		target, resolve := proxiedName(stripe.URL)
		proxy := testproxy.Start(t, testproxy.Config{Auth: "basic", User: user, Password: password, Resolve: resolve})
		p := startBinary(t, map[string]string{"HTTP_PROXY": "http://" + user + ":" + password + "@" + proxy.Addr()},
			"--listen", "127.0.0.1:0", "--api-base", "http://"+target, "--api-key", "sk_test_proxy")
		if line := p.waitLine(t, "connect="); !strings.Contains(line, `proxy="from HTTP_PROXY (basic, ssl auto)"`) {
			t.Errorf("first line %q does not name HTTP_PROXY", line)
		}
		if got := queryString(t, p.mysql(t, ""), "SELECT Id FROM Customers LIMIT 1"); !strings.HasPrefix(got, "cus_") {
			t.Errorf("first customer = %q", got)
		}
		checkProxied(t, proxy.Entries(), "basic", false, false, target)
	})
}

// proxiedName names the server at base stripe.test:port, and returns a
// resolver for the proxy that maps the name back.
func proxiedName(base string) (target string, resolve func(string) string) {
	addr := strings.TrimPrefix(base, "http://")
	_, port, _ := net.SplitHostPort(addr)
	target = "stripe.test:" + port
	return target, func(hostport string) string {
		if hostport == target {
			return addr
		}
		return hostport
	}
}

// checkProxied checks the proxy's log: every request authenticated with
// the scheme (after at most one Digest challenge), over TLS or not, and
// forwarded or tunnelled to target.
func checkProxied(t *testing.T, entries []testproxy.Entry, auth string, tunnel, tls bool, target string) {
	t.Helper()
	if len(entries) == 0 {
		t.Fatal("the proxy saw no request")
	}
	challenges := 0
	for i, e := range entries {
		if e.TLS != tls {
			t.Errorf("entry %d: TLS to the proxy = %v, want %v", i, e.TLS, tls)
		}
		if tunnel {
			if e.Method != http.MethodConnect || e.Target != target {
				t.Errorf("entry %d: %s %s, want CONNECT %s", i, e.Method, e.Target, target)
			}
		} else if !strings.HasPrefix(e.Target, "http://"+target+"/v1/") {
			t.Errorf("entry %d: %s %s, want a forwarded http://%s/v1/…", i, e.Method, e.Target, target)
		}
		if e.Status == http.StatusProxyAuthRequired && auth == "digest" && e.Auth == "" {
			challenges++
			continue
		}
		if e.Status != http.StatusOK || !strings.HasPrefix(strings.ToLower(e.Auth), auth+" ") {
			t.Errorf("entry %d: status %d, Proxy-Authorization %q; want 200 with %s", i, e.Status, e.Auth, auth)
		}
	}
	if challenges > 1 {
		t.Errorf("%d Digest challenges; the nonce should be reused", challenges)
	}
}

// TestBinaryVerbosity5 logs every Stripe exchange as JSON through a
// proxy, and checks each line for the secrets: the API key, the proxy
// password, the MySQL password and payment intents' client secrets.
func TestBinaryVerbosity5(t *testing.T) {
	const (
		key       = "sk_test_51VerbosityKEYcanary"
		proxyPW   = "proxy-PW-verbosity-canary"
		mysqlPW   = "mysql-PW-verbosity-canary"
		proxyUser = "vuser"
	)
	stripe := startFakeStripe(t, nil)
	target, resolve := proxiedName(stripe.URL)
	proxy := testproxy.Start(t, testproxy.Config{Auth: "basic", User: proxyUser, Password: proxyPW, Resolve: resolve})
	p := startBinary(t, map[string]string{"STRIPE_API_KEY": key, "STRIPESQL_PASSWORD": mysqlPW, "STRIPESQL_PROXY_PASSWORD": proxyPW},
		"--listen", "127.0.0.1:0", "--api-base", "http://"+target, "--verbosity", "5", "--log-format", "json",
		"--proxy", "http://"+proxy.Addr(), "--proxy-user", proxyUser)
	db := p.mysql(t, mysqlPW)
	if got := queryString(t, db, "SELECT Id FROM Customers LIMIT 1"); !strings.HasPrefix(got, "cus_") {
		t.Errorf("first customer = %q", got)
	}
	if got := queryString(t, db, "SELECT Id FROM PaymentIntents LIMIT 1"); !strings.HasPrefix(got, "pi_") {
		t.Errorf("first payment intent = %q", got)
	}
	lines := p.stop(t)

	clientSecret := regexp.MustCompile(`pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+`)
	redactedSecret := regexp.MustCompile(`"client_secret":\s*"\[redacted\]"`)
	var requests, responses []map[string]any
	for _, l := range lines {
		for _, secret := range []string{key, proxyPW, mysqlPW} {
			if strings.Contains(l, secret) {
				t.Errorf("log line contains %q: %s", secret, l)
			}
		}
		if m := clientSecret.FindString(l); m != "" {
			t.Errorf("log line contains the client secret %s: %.300s", m, l)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not a JSON log line: %s", l)
		}
		switch rec["msg"] {
		case "stripe http request":
			requests = append(requests, rec)
		case "stripe http response":
			responses = append(responses, rec)
		}
		if (rec["msg"] == "stripe http request" || rec["msg"] == "stripe http response") && rec["level"] != "TRACE" {
			t.Errorf("wire record at level %v", rec["level"])
		}
	}
	var sawCustomers, sawSecretRedacted bool
	for _, r := range requests {
		u, _ := r["url"].(string)
		h, _ := r["header"].(map[string]any)
		if strings.Contains(u, "http://"+target+"/v1/customers") {
			sawCustomers = true
		}
		if h["Authorization"] != "[redacted]" || h["Proxy-Authorization"] != "[redacted]" || h["Stripe-Version"] == nil {
			t.Errorf("request headers %v", h)
		}
	}
	for _, r := range responses {
		body, _ := r["body"].(string)
		if r["path"] == "/v1/payment_intents" && redactedSecret.MatchString(body) && strings.Contains(body, `"object": "payment_intent"`) {
			sawSecretRedacted = true
		}
	}
	if len(requests) == 0 || len(responses) != len(requests) || !sawCustomers || !sawSecretRedacted {
		t.Errorf("%d requests, %d responses, /v1/customers %v, payment intent body with client_secret redacted %v:\n%.3000s",
			len(requests), len(responses), sawCustomers, sawSecretRedacted, strings.Join(lines, "\n"))
	}
}

// TestBinaryVerbosity2 logs warnings and errors only, after the line that
// gives the address, which every verbosity logs.
func TestBinaryVerbosity2(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startBinary(t, map[string]string{"STRIPESQL_VERBOSITY": "2"}, "--demo", "--api-base", "http://ignored.example", "--listen", addr)
	p.waitLine(t, "--api-base is ignored in demo mode")
	var db *dbsql.DB
	deadline := time.Now().Add(20 * time.Second)
	for {
		db, err = dbsql.Open("mysql", "root@tcp("+addr+")/stripe?timeout=5s")
		if err == nil && db.Ping() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cannot connect: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer db.Close()
	queryString(t, db, "SELECT Id FROM Customers LIMIT 1")
	lines := p.stop(t)
	if len(lines) < 2 || !strings.Contains(lines[0], "level=INFO msg=\"serving the embedded demo") || !strings.Contains(lines[0], "addr="+addr) ||
		!strings.Contains(lines[1], "--api-base is ignored") {
		t.Fatalf("verbosity 2 logged:\n%s\nwant the address line, then the warning", strings.Join(lines, "\n"))
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "level=WARN ") && !strings.Contains(l, "level=ERROR ") {
			t.Errorf("verbosity 2 logged %s", l)
		}
	}
}

// TestBinaryAuthErrors checks that a rejected key and a restricted key
// lacking a permission reach the MySQL client as errors saying so.
func TestBinaryAuthErrors(t *testing.T) {
	for _, tt := range []struct {
		key, body string
		status    int
		kind      string
		want      string
	}{
		{"rk_test_51RestrictedCanary", `{"error":{"type":"invalid_request_error","message":"The provided key 'rk_test_***nary' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_customer_read' permission would allow this request to continue."}}`,
			403, "restricted", "stripe: permission denied (the API key lacks the permission rak_customer_read): invalid_request_error: The provided key"},
		{"sk_live_51RevokedCanary", `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_live_***nary"}}`,
			401, "secret", "stripe: authentication failed (Stripe rejected the API key): invalid_request_error: Invalid API Key provided"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			stripe := startFakeStripe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			p := startBinary(t, nil, "--listen", "127.0.0.1:0", "--api-base", stripe.URL,
				"--api-key-file", writeFile(t, "key", tt.key+"\n"))
			if line := p.waitLine(t, "connect="); !strings.Contains(line, "key="+tt.kind) {
				t.Errorf("first line %q lacks key=%s", line, tt.kind)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var id string
			err := p.mysql(t, "").QueryRowContext(ctx, "SELECT Id FROM Customers LIMIT 1").Scan(&id)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("query error = %v\nwant it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "Canary") {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

// TestBinaryThrottling checks --rate and --burst pace the requests, and
// --max-concurrency bounds the requests in flight (against a control run
// without it).
func TestBinaryThrottling(t *testing.T) {
	t.Run("rate", func(t *testing.T) {
		t.Parallel()
		stripe := startFakeStripe(t, nil)
		p := startBinary(t, nil, "--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", "sk_test_rate",
			"--rate", "5", "--burst", "1")
		db := p.mysql(t, "")
		start := time.Now()
		for i := range 4 { // four point lookups, four calls
			queryCount(t, db, fmt.Sprintf("SELECT COUNT(*) FROM Customers WHERE Id = 'cus_none%d'", i))
		}
		// The first call has the burst's token; three more wait 200ms each.
		if d := time.Since(start); d < 550*time.Millisecond {
			t.Errorf("4 calls at --rate 5 --burst 1 took %v, want at least 600ms", d)
		}
	})
	for _, limit := range []int{1, 0} {
		t.Run(fmt.Sprint("max-concurrency=", limit), func(t *testing.T) {
			t.Parallel()
			stripe := startFakeStripe(t, nil)
			stripe.delay = 100 * time.Millisecond
			args := []string{"--listen", "127.0.0.1:0", "--api-base", stripe.URL, "--api-key", "sk_test_conc", "--rate", "-1"}
			if limit > 0 {
				args = append(args, "--max-concurrency", fmt.Sprint(limit))
			}
			p := startBinary(t, nil, args...)
			db := p.mysql(t, "")
			var wg sync.WaitGroup
			for i := range 4 { // four connections querying at once
				wg.Go(func() { queryCount(t, db, fmt.Sprintf("SELECT COUNT(*) FROM Customers WHERE Id = 'cus_par%d'", i)) })
			}
			wg.Wait()
			peak := stripe.peakInFlight()
			if limit > 0 && peak != limit || limit == 0 && peak < 2 {
				t.Errorf("peak requests in flight = %d with --max-concurrency %d", peak, limit)
			}
		})
	}
}

func queryCount(t *testing.T, db *dbsql.DB, q string) {
	t.Helper()
	if got := queryString(t, db, q); got != "0" {
		t.Errorf("%s = %s, want 0", q, got)
	}
}
