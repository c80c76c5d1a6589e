package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/internal/testproxy"
)

const (
	proxyUser     = "proxy-user"
	proxyPassword = "proxy-PW-LeakCanary-42"
)

// newUpstream is a recording fake Stripe, over TLS if useTLS, that answers
// every request with a customer.
func newUpstream(t *testing.T, useTLS bool) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.URL.EscapedPath(), r.Header.Clone()})
		s.mu.Unlock()
		reply(w, 200, `{"id":"cus_1","object":"customer"}`)
	}))
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// viaName returns base with its host replaced by api.example.com (which
// httptest's certificate covers), and a resolver that maps the name back
// to the server. Only the proxy is given the resolver, so a request that
// reaches the server must have gone through the proxy.
func viaName(base string) (named string, resolve func(string) string) {
	u, _ := url.Parse(base)
	real := u.Host
	_, port, _ := net.SplitHostPort(real)
	u.Host = "api.example.com:" + port
	return u.String(), func(hostport string) string {
		if hostport == u.Host {
			return real
		}
		return hostport
	}
}

// TestProxyModes runs three calls through a proxy for every auth scheme,
// SSL mode and target scheme, and checks what the proxy and the target saw.
func TestProxyModes(t *testing.T) {
	for _, auth := range []ProxyAuth{ProxyAuthBasic, ProxyAuthDigest} {
		for _, ssl := range []ProxySSL{ProxySSLAuto, ProxySSLAlways, ProxySSLNever, ProxySSLTunnel} {
			for _, scheme := range []string{"http", "https"} {
				t.Run(fmt.Sprintf("%s/%s/%s", auth, ssl, scheme), func(t *testing.T) {
					t.Parallel()
					testProxyMode(t, auth, ssl, scheme)
				})
			}
		}
	}
}

func testProxyMode(t *testing.T, auth ProxyAuth, ssl ProxySSL, scheme string) {
	up := newUpstream(t, scheme == "https")
	base, resolve := viaName(up.URL)
	proxy := testproxy.Start(t, testproxy.Config{
		Auth: auth.String(), User: proxyUser, Password: proxyPassword,
		TLS:     ssl == ProxySSLAlways,
		Resolve: resolve,
	})
	// The URL's scheme disagrees with the proxy where the mode overrides it.
	proxyURL, _ := url.Parse(proxy.URL())
	switch ssl {
	case ProxySSLAlways:
		proxyURL.Scheme = "http"
	case ProxySSLNever:
		proxyURL.Scheme = "https"
	}
	c := newTestClient(t, base, func(cfg *Config) {
		cfg.Account = "acct_123"
		cfg.RootCAs = testproxy.CertPool() // the target's and the proxy's certificate
		cfg.Proxy = &ProxyConfig{URL: proxyURL, User: proxyUser, Password: proxyPassword, Auth: auth, SSL: ssl}
	})

	ctx := t.Context()
	if _, err := c.Get(ctx, "/v1/customers/cus_1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Post(ctx, "/v1/customers", Params{{"name", "abc"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "/v1/customers", Params{{"limit", "3"}}); err != nil {
		t.Fatal(err)
	}

	// The target got every call, with its headers and without the proxy's.
	reqs := up.requests()
	if len(reqs) != 3 {
		t.Fatalf("target saw %d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("Stripe-Account") != "acct_123" || r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("%s %s reached the target with Stripe-Account %q, Authorization %q",
				r.Method, r.Path, r.Header.Get("Stripe-Account"), r.Header.Get("Authorization"))
		}
		if h := r.Header.Get("Proxy-Authorization"); h != "" {
			t.Errorf("%s %s: Proxy-Authorization %q leaked to the target", r.Method, r.Path, h)
		}
	}
	if reqs[1].Body != "name=abc" {
		t.Errorf("POST body at the target = %q", reqs[1].Body)
	}

	// The proxy forwarded or tunnelled, as the mode says, and was asked
	// for credentials at most once.
	tunnel := scheme == "https" || ssl == ProxySSLTunnel
	entries := proxy.Entries()
	var challenges, ok int
	for i, e := range entries {
		if e.TLS != (ssl == ProxySSLAlways) {
			t.Errorf("entry %d: TLS to the proxy = %v in mode %s", i, e.TLS, ssl)
		}
		switch e.Status {
		case http.StatusProxyAuthRequired:
			challenges++
			if auth != ProxyAuthDigest || i != 0 || e.Auth != "" {
				t.Errorf("unexpected 407 for entry %d %+v", i, e)
			}
			continue
		case http.StatusOK:
			ok++
		default:
			t.Errorf("entry %d: status %d", i, e.Status)
		}
		wantScheme := "Basic "
		if auth == ProxyAuthDigest {
			wantScheme = "Digest "
		}
		if !strings.HasPrefix(e.Auth, wantScheme) {
			t.Errorf("entry %d: Proxy-Authorization %q, want %s…", i, e.Auth, wantScheme)
		}
		if tunnel {
			if e.Method != http.MethodConnect || e.Target != strings.TrimPrefix(base, scheme+"://") {
				t.Errorf("entry %d: %s %s, want CONNECT %s", i, e.Method, e.Target, base)
			}
		} else if e.Method == http.MethodConnect || !strings.HasPrefix(e.Target, base+"/v1/customers") {
			t.Errorf("entry %d: %s %s, want a forwarded %s/v1/customers…", i, e.Method, e.Target, base)
		}
	}
	if auth == ProxyAuthDigest && challenges != 1 {
		t.Errorf("%d Digest challenges, want 1 (the nonce is reused)", challenges)
	}
	if wantOK := map[bool]int{false: 3, true: 1}[tunnel]; ok != wantOK {
		t.Errorf("proxy entries %+v: %d successful, want %d (tunnel %v)", entries, ok, wantOK, tunnel)
	}
}

func TestProxyWrongPasswordIsAClearErrorAndNotRetried(t *testing.T) {
	for _, auth := range []ProxyAuth{ProxyAuthBasic, ProxyAuthDigest} {
		for _, ssl := range []ProxySSL{ProxySSLAuto, ProxySSLTunnel} {
			t.Run(auth.String()+"/"+ssl.String(), func(t *testing.T) {
				up := newUpstream(t, false)
				proxy := testproxy.Start(t, testproxy.Config{Auth: auth.String(), User: proxyUser, Password: "right"})
				u, _ := url.Parse(proxy.URL())
				c := newTestClient(t, up.URL, func(cfg *Config) {
					cfg.Proxy = &ProxyConfig{URL: u, User: proxyUser, Password: proxyPassword, Auth: auth, SSL: ssl}
				})
				_, err := c.Get(t.Context(), "/v1/customers/cus_1", nil)
				var want string
				if ssl == ProxySSLTunnel {
					want = "refused CONNECT to " + strings.TrimPrefix(up.URL, "http://") +
						": 407 Proxy Authentication Required (the proxy did not accept the proxy user, password or auth scheme)"
				} else {
					want = "stripe: proxy authentication failed (the proxy did not accept the proxy user, password or auth scheme)"
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v\nwant it to contain %q", err, want)
				}
				if strings.Contains(err.Error(), proxyPassword) {
					t.Errorf("error shows the password: %v", err)
				}
				// Basic: one refused attempt; Digest: the challenge, then one refused answer.
				if n, max := len(proxy.Entries()), map[ProxyAuth]int{ProxyAuthBasic: 1, ProxyAuthDigest: 2}[auth]; n != max {
					t.Errorf("proxy saw %d requests, want %d (no retries of a refusal)", n, max)
				}
				if up.hits() != 0 {
					t.Errorf("the target saw %d requests", up.hits())
				}
			})
		}
	}
}

func TestProxyDigestStaleNonceAndSHA256(t *testing.T) {
	for _, tunnel := range []bool{false, true} {
		t.Run(fmt.Sprint("tunnel=", tunnel), func(t *testing.T) {
			up := newUpstream(t, false)
			proxy := testproxy.Start(t, testproxy.Config{Auth: "digest", User: proxyUser, Password: proxyPassword,
				Algorithm: "SHA-256", NonceUses: 1})
			u, _ := url.Parse(proxy.URL())
			ssl := ProxySSLAuto
			if tunnel {
				ssl = ProxySSLTunnel
			}
			c := newTestClient(t, up.URL, func(cfg *Config) {
				cfg.Proxy = &ProxyConfig{URL: u, User: proxyUser, Password: proxyPassword, Auth: ProxyAuthDigest, SSL: ssl}
			})
			for i := range 3 {
				// A new connection per call, so that each CONNECT needs a fresh nonce.
				if _, err := c.Get(t.Context(), "/v1/customers/cus_1", nil); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				c.hc.CloseIdleConnections()
			}
			stale := 0
			for _, e := range proxy.Entries() {
				if e.Status == http.StatusProxyAuthRequired && e.Auth != "" {
					stale++
				}
			}
			if stale != 2 {
				t.Errorf("%d answers refused as stale, want 2 (calls 2 and 3): %+v", stale, proxy.Entries())
			}
		})
	}
}

func TestProxyFromEnvironmentAndURLCredentials(t *testing.T) {
	proxied := newUpstream(t, false)
	base, resolve := viaName(proxied.URL)
	direct := newUpstream(t, false)
	proxy := testproxy.Start(t, testproxy.Config{Auth: "basic", User: proxyUser, Password: proxyPassword, Resolve: resolve})
	fromEnv := func(req *http.Request) (*url.URL, error) {
		if req.URL.Hostname() != "api.example.com" {
			return nil, nil // as NO_PROXY would
		}
		return url.Parse("http://" + proxyUser + ":" + proxyPassword + "@" + proxy.Addr())
	}
	for _, b := range []string{base, direct.URL} {
		c := newTestClient(t, b, func(cfg *Config) { cfg.Proxy = &ProxyConfig{fromEnv: fromEnv} })
		if _, err := c.Get(t.Context(), "/v1/customers/cus_1", nil); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	if proxied.hits() != 1 || direct.hits() != 1 {
		t.Errorf("hits: proxied %d, direct %d; want 1 each", proxied.hits(), direct.hits())
	}
	if e := proxy.Entries(); len(e) != 1 || !strings.HasPrefix(e[0].Target, base) || e[0].Status != 200 {
		t.Errorf("proxy entries = %+v, want one forward to %s", e, base)
	}
}

func TestProxyConfigValidation(t *testing.T) {
	for _, raw := range []string{"socks5://127.0.0.1:1080", "http://"} {
		u, _ := url.Parse(raw)
		_, err := New(Config{APIKey: testKey, Proxy: &ProxyConfig{URL: u}})
		if err == nil || !strings.Contains(err.Error(), "invalid proxy URL") {
			t.Errorf("%s: err = %v, want invalid proxy URL", raw, err)
		}
	}
	for s, want := range map[string]ProxySSL{"auto": ProxySSLAuto, "ALWAYS": ProxySSLAlways, "never": ProxySSLNever, "Tunnel": ProxySSLTunnel} {
		if got, err := ParseProxySSL(s); err != nil || got != want {
			t.Errorf("ParseProxySSL(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseProxySSL("sometimes"); err == nil || !strings.Contains(err.Error(), "want auto, always, never or tunnel") {
		t.Errorf("ParseProxySSL(sometimes) = %v", err)
	}
	if a, err := ParseProxyAuth("Digest"); err != nil || a != ProxyAuthDigest {
		t.Errorf("ParseProxyAuth(Digest) = %v, %v", a, err)
	}
	if _, err := ParseProxyAuth("ntlm"); err == nil {
		t.Error("ParseProxyAuth(ntlm) accepted")
	}
}

// TestDigestRFC7616Example checks the answer against the worked example of
// RFC 7616 section 3.9.1, for MD5 and SHA-256.
func TestDigestRFC7616Example(t *testing.T) {
	header := `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=%s, ` +
		`nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
	for alg, want := range map[string]string{
		"MD5":     "8ca523f5e9506fed4657c9700eebdbec",
		"SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
	} {
		var d digestSession
		if !d.challenge([]string{`Basic realm="x"`, fmt.Sprintf(header, alg)}) {
			t.Fatalf("%s: challenge not adopted", alg)
		}
		got := d.ch.answer("Mufasa", "Circle of Life", "GET", "/dir/index.html", "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
		if !strings.Contains(got, `response="`+want+`"`) || !strings.Contains(got, `qop=auth, nc=00000001`) ||
			!strings.Contains(got, `opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`) || !strings.Contains(got, `uri="/dir/index.html"`) {
			t.Errorf("%s: %s\nwant response %s", alg, got, want)
		}
	}
	// One comma-separated header with two challenges; auth-int alone is refused.
	var d digestSession
	if !d.challenge([]string{`Basic realm="a", Digest realm="b", nonce="n1", qop="auth"`}) || d.ch.realm != "b" {
		t.Errorf("second challenge of a list not found: %+v", d.ch)
	}
	if d.challenge([]string{`Digest realm="b", nonce="n2", qop="auth-int"`}) {
		t.Error("auth-int-only challenge adopted")
	}
	if d.challenge([]string{`Digest realm="b", nonce="n1", algorithm=SHA-512-256`}) {
		t.Error("unknown algorithm adopted")
	}
}

func TestMaxConcurrency(t *testing.T) {
	release := make(chan struct{})
	events := make(chan int, 100) // +1 when a request arrives, -1 before it is answered
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		events <- +1
		<-release
		events <- -1
		reply(w, 200, `{"id":"cus_1"}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxConcurrency = 2 })

	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := c.Get(t.Context(), "/v1/customers/cus_1", nil)
			errs <- err
		}()
	}
	<-events
	<-events
	// Both slots are held: a call with a deadline gives up without sending.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, "/v1/customers/cus_1", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call waiting for a slot: err = %v, want context.DeadlineExceeded", err)
	}
	if len(events) != 0 {
		t.Fatal("a third request reached the server while two were in flight")
	}
	close(release)
	for range 5 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// A slot is given back only after its answer, so the running count
	// of events never exceeds the bound.
	cur, peak := 2, 2
	for len(events) > 0 {
		cur += <-events
		peak = max(peak, cur)
	}
	if peak != 2 || cur != 0 || srv.hits() != 5 {
		t.Errorf("peak in flight %d, final %d, hits %d; want 2, 0, 5 (the cancelled call never sent)", peak, cur, srv.hits())
	}
}
