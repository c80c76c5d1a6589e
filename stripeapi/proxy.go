package stripeapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ProxyAuth is how a client authenticates to its proxy.
type ProxyAuth int

// The proxy authentication schemes. The zero ProxyAuth is Basic.
const (
	// ProxyAuthBasic sends the user and password with every request
	// (Proxy-Authorization: Basic), without waiting for a challenge.
	ProxyAuthBasic ProxyAuth = iota
	// ProxyAuthDigest answers the proxy's 407 Digest challenge (RFC 7616:
	// MD5, MD5-sess, SHA-256 or SHA-256-sess, qop=auth) and then reuses its
	// nonce, with an increasing nonce count, until the proxy calls it stale.
	ProxyAuthDigest
)

// String returns "basic" or "digest".
func (a ProxyAuth) String() string {
	if a == ProxyAuthDigest {
		return "digest"
	}
	return "basic"
}

// ParseProxyAuth parses "basic" or "digest", in any case.
func ParseProxyAuth(s string) (ProxyAuth, error) {
	switch strings.ToLower(s) {
	case "basic":
		return ProxyAuthBasic, nil
	case "digest":
		return ProxyAuthDigest, nil
	}
	return 0, fmt.Errorf("unknown proxy auth scheme %q (want basic or digest)", s)
}

// ProxySSL says whether the connection to the proxy itself uses TLS, and
// when requests go through a CONNECT tunnel rather than being forwarded.
type ProxySSL int

// The SSL modes. The zero ProxySSL is Auto.
const (
	// ProxySSLAuto tunnels (CONNECT) to HTTPS targets and forwards requests
	// to HTTP targets; it speaks TLS to the proxy if the proxy URL's scheme
	// is https.
	ProxySSLAuto ProxySSL = iota
	// ProxySSLAlways is Auto, but always speaks TLS to the proxy, whatever
	// the proxy URL's scheme.
	ProxySSLAlways
	// ProxySSLNever is Auto, but never speaks TLS to the proxy, whatever the
	// proxy URL's scheme. (TLS to an HTTPS target, inside the tunnel, is
	// unaffected.)
	ProxySSLNever
	// ProxySSLTunnel tunnels every request with CONNECT, HTTP targets
	// included; TLS to the proxy as in Auto.
	ProxySSLTunnel
)

var proxySSLNames = [...]string{"auto", "always", "never", "tunnel"}

// String returns "auto", "always", "never" or "tunnel".
func (m ProxySSL) String() string {
	if m >= 0 && int(m) < len(proxySSLNames) {
		return proxySSLNames[m]
	}
	return fmt.Sprintf("ProxySSL(%d)", int(m))
}

// ParseProxySSL parses an SSL mode name, in any case.
func ParseProxySSL(s string) (ProxySSL, error) {
	for i, n := range proxySSLNames {
		if strings.EqualFold(s, n) {
			return ProxySSL(i), nil
		}
	}
	return 0, fmt.Errorf("unknown proxy SSL mode %q (want auto, always, never or tunnel)", s)
}

// ProxyConfig configures the proxy of a Client (Config.Proxy).
type ProxyConfig struct {
	// URL is the proxy, http://host:port or https://host:port, and may
	// carry user:password. Nil takes the proxy from the environment:
	// HTTPS_PROXY or HTTP_PROXY by the target's scheme, unless NO_PROXY
	// names the target (see http.ProxyFromEnvironment, which never proxies
	// requests to localhost).
	URL *url.URL

	// User and Password authenticate to the proxy. If User is empty, the
	// proxy URL's user information is used; with neither, no credentials
	// are sent.
	User, Password string

	// Auth is the authentication scheme, Basic by default.
	Auth ProxyAuth

	// SSL is the SSL mode, Auto by default.
	SSL ProxySSL

	// fromEnv replaces http.ProxyFromEnvironment in tests, since that
	// reads the environment only once per process.
	fromEnv func(*http.Request) (*url.URL, error)
}

// ProxyError reports that a proxy refused to open a CONNECT tunnel.
type ProxyError struct {
	Proxy      string // the proxy's host:port
	Target     string // the host:port the tunnel was for
	StatusCode int
	Status     string // e.g. "407 Proxy Authentication Required"
}

func (e *ProxyError) Error() string {
	msg := fmt.Sprintf("proxy %s refused CONNECT to %s: %s", e.Proxy, e.Target, e.Status)
	if e.StatusCode == http.StatusProxyAuthRequired {
		msg += " (the proxy did not accept the proxy user, password or auth scheme)"
	}
	return msg
}

// proxyTransport is the http.RoundTripper of a Client with a ProxyConfig.
// Per request it picks one of three transports:
//
//   - direct, when no proxy applies to the target (NO_PROXY);
//   - forward, which sends an HTTP target's request to the proxy in
//     absolute form (GET http://host/path) over a plain or TLS connection;
//   - tunnel, for HTTPS targets and for every target in Tunnel mode, whose
//     dialers open a CONNECT tunnel through the proxy themselves, so that
//     they can answer a Digest challenge, which net/http's CONNECT cannot.
//
// Proxy authentication is added here and in the tunnel dialer, never from
// the proxy URL by net/http, so the wire log shows each header as sent.
type proxyTransport struct {
	cfg     ProxyConfig
	roots   *x509.CertPool
	log     *slog.Logger // CONNECT exchanges at LevelTrace; may be nil
	secrets []string     // redacted from the CONNECT log
	dialer  net.Dialer

	direct, forward, tunnel http.RoundTripper

	mu      sync.Mutex
	digests map[string]*digestSession // by proxy host:port
}

func newProxyTransport(cfg ProxyConfig, roots *x509.CertPool, log *slog.Logger, wire func(http.RoundTripper) http.RoundTripper) (*proxyTransport, error) {
	if cfg.URL != nil {
		if cfg.URL.Scheme != "http" && cfg.URL.Scheme != "https" || cfg.URL.Host == "" {
			return nil, fmt.Errorf("stripe: invalid proxy URL %q: want http(s)://host:port", cfg.URL.Redacted())
		}
	}
	if cfg.fromEnv == nil {
		cfg.fromEnv = http.ProxyFromEnvironment
	}
	t := &proxyTransport{
		cfg:     cfg,
		roots:   roots,
		log:     log,
		secrets: []string{cfg.Password},
		dialer:  net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		digests: make(map[string]*digestSession),
	}
	if cfg.URL != nil {
		if pw, ok := cfg.URL.User.Password(); ok {
			t.secrets = append(t.secrets, pw)
		}
	}
	tlsConfig := &tls.Config{RootCAs: roots}
	base := func() *http.Transport {
		return &http.Transport{
			DialContext:           t.dialer.DialContext,
			TLSClientConfig:       tlsConfig,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	direct := base()
	direct.ForceAttemptHTTP2 = true
	forward := base()
	forward.Proxy = func(req *http.Request) (*url.URL, error) {
		p, err := t.proxyFor(req.URL)
		if p == nil || err != nil {
			return nil, err
		}
		return t.wireURL(p), nil
	}
	tunnel := base()
	tunnel.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return t.dialTarget(ctx, network, "http", addr)
	}
	tunnel.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := t.dialTarget(ctx, network, "https", addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: host})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
	t.direct, t.forward, t.tunnel = wire(direct), wire(forward), wire(tunnel)
	return t, nil
}

// CloseIdleConnections closes the idle connections of every transport.
func (t *proxyTransport) CloseIdleConnections() {
	for _, rt := range []http.RoundTripper{t.direct, t.forward, t.tunnel} {
		closeIdle(rt)
	}
}

// closeIdle closes rt's idle connections, if it has a way to.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// proxyFor returns the proxy for target, or nil to go direct.
func (t *proxyTransport) proxyFor(target *url.URL) (*url.URL, error) {
	if t.cfg.URL != nil {
		return t.cfg.URL, nil
	}
	return t.cfg.fromEnv(&http.Request{URL: target})
}

// tlsToProxy reports whether the connection to proxy p uses TLS.
func (t *proxyTransport) tlsToProxy(p *url.URL) bool {
	switch t.cfg.SSL {
	case ProxySSLAlways:
		return true
	case ProxySSLNever:
		return false
	}
	return p.Scheme == "https"
}

// wireURL is p as net/http should reach it for forwarding: its scheme
// states the SSL mode's choice, and it carries no credentials, which are
// added by RoundTrip instead.
func (t *proxyTransport) wireURL(p *url.URL) *url.URL {
	u := &url.URL{Scheme: "http", Host: p.Host}
	if t.tlsToProxy(p) {
		u.Scheme = "https"
	}
	return u
}

// proxyAddr is p's host:port, with the scheme's default port if none.
func (t *proxyTransport) proxyAddr(p *url.URL) string {
	if p.Port() != "" {
		return p.Host
	}
	if p.Scheme == "https" {
		return net.JoinHostPort(p.Hostname(), "443")
	}
	return net.JoinHostPort(p.Hostname(), "80")
}

// credentials returns the user and password for proxy p, if any.
func (t *proxyTransport) credentials(p *url.URL) (user, password string, ok bool) {
	if t.cfg.User != "" {
		return t.cfg.User, t.cfg.Password, true
	}
	if p.User != nil && p.User.Username() != "" {
		pw, _ := p.User.Password()
		return p.User.Username(), pw, true
	}
	return "", "", false
}

// authorization returns the Proxy-Authorization value for a request to
// proxy p with the given method and request target, or "" if there is
// none yet (no credentials, or Digest before the first challenge).
func (t *proxyTransport) authorization(p *url.URL, method, target string) string {
	user, password, ok := t.credentials(p)
	if !ok {
		return ""
	}
	if t.cfg.Auth == ProxyAuthBasic {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	return t.digest(p).authorization(user, password, method, target)
}

// digest returns the Digest session with proxy p.
func (t *proxyTransport) digest(p *url.URL) *digestSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := t.proxyAddr(p)
	d := t.digests[key]
	if d == nil {
		d = &digestSession{}
		t.digests[key] = d
	}
	return d
}

// challenged reports whether a 407 carrying these Proxy-Authenticate
// values is worth answering: Digest is configured, credentials are set, and
// the proxy sent a usable challenge that differs from the one last
// answered (or marks it stale). Otherwise the credentials were wrong, and
// asking again would fail again.
func (t *proxyTransport) challenged(p *url.URL, h http.Header) bool {
	if t.cfg.Auth != ProxyAuthDigest {
		return false
	}
	if _, _, ok := t.credentials(p); !ok {
		return false
	}
	return t.digest(p).challenge(h.Values("Proxy-Authenticate"))
}

// RoundTrip implements http.RoundTripper.
func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, err := t.proxyFor(req.URL)
	switch {
	case err != nil:
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("choosing a proxy: %w", err)
	case p == nil:
		return t.direct.RoundTrip(req)
	case req.URL.Scheme == "https" || t.cfg.SSL == ProxySSLTunnel:
		return t.tunnel.RoundTrip(req)
	}
	return t.forwardTrip(req, p)
}

// forwardTrip sends req to proxy p in absolute form, with its credentials,
// and answers one Digest challenge.
func (t *proxyTransport) forwardTrip(req *http.Request, p *url.URL) (*http.Response, error) {
	target := forwardTarget(req)
	first := req.Clone(req.Context())
	if a := t.authorization(p, req.Method, target); a != "" {
		first.Header.Set("Proxy-Authorization", a)
	}
	resp, err := t.forward.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusProxyAuthRequired || !t.challenged(p, resp.Header) {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // the body is gone; the caller sees the 407
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()

	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	retry.Header.Set("Proxy-Authorization", t.authorization(p, req.Method, target))
	return t.forward.RoundTrip(retry)
}

// forwardTarget is the request target net/http writes for req when it
// forwards it to a proxy: the absolute URI. Digest signs it.
func forwardTarget(req *http.Request) string {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	return req.URL.Scheme + "://" + host + req.URL.RequestURI()
}

// dialTarget connects to addr, the host:port of a scheme target: through a
// CONNECT tunnel if a proxy applies, directly otherwise.
func (t *proxyTransport) dialTarget(ctx context.Context, network, scheme, addr string) (net.Conn, error) {
	p, err := t.proxyFor(&url.URL{Scheme: scheme, Host: addr})
	if err != nil {
		return nil, fmt.Errorf("choosing a proxy: %w", err)
	}
	if p == nil {
		return t.dialer.DialContext(ctx, network, addr)
	}
	var conn net.Conn
	for attempt := 1; ; attempt++ {
		var resp *http.Response
		conn, resp, err = t.connect(ctx, p, addr)
		if err != nil || resp.StatusCode == http.StatusOK {
			return conn, err
		}
		conn.Close()
		// Answer one new Digest challenge on a fresh connection: the 407
		// may have closed this one, and a fresh one is always safe.
		if attempt > 1 || resp.StatusCode != http.StatusProxyAuthRequired || !t.challenged(p, resp.Header) {
			return nil, &ProxyError{Proxy: t.proxyAddr(p), Target: addr, StatusCode: resp.StatusCode, Status: resp.Status}
		}
	}
}

// connect opens a connection to proxy p, over TLS if the SSL mode says so,
// and asks it for a tunnel to addr. It returns the connection and the
// proxy's answer; the connection is the tunnel if the answer is 200, and
// must be closed otherwise.
func (t *proxyTransport) connect(ctx context.Context, p *url.URL, addr string) (net.Conn, *http.Response, error) {
	paddr := t.proxyAddr(p)
	conn, err := t.dialer.DialContext(ctx, "tcp", paddr)
	if err != nil {
		return nil, nil, fmt.Errorf("dialing proxy %s: %w", paddr, err)
	}
	// Until the tunnel is up, ctx's end interrupts any read or write.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(format string, err error) (net.Conn, *http.Response, error) {
		conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, fmt.Errorf(format, paddr, err)
	}
	if t.tlsToProxy(p) {
		tc := tls.Client(conn, &tls.Config{RootCAs: t.roots, ServerName: p.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake with proxy %s: %w", err)
		}
		conn = tc
	}

	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: make(http.Header),
	}
	if a := t.authorization(p, http.MethodConnect, addr); a != "" {
		req.Header.Set("Proxy-Authorization", a)
	}
	t.logConnect(ctx, p, req, nil)
	if err := req.Write(conn); err != nil {
		return fail("sending CONNECT to proxy %s: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail("reading CONNECT answer from proxy %s: %w", err)
	}
	t.logConnect(ctx, p, req, resp)
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return conn, resp, nil
	}
	if !stop() { // ctx ended; the deadline is already set
		conn.Close()
		return nil, nil, ctx.Err()
	}
	conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		// Bytes from the target that arrived with the answer.
		return &bufferedConn{Conn: conn, r: br}, resp, nil
	}
	return conn, resp, nil
}

// bufferedConn is a net.Conn whose first bytes were already read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// logConnect logs a CONNECT request (resp nil) or its answer at LevelTrace.
func (t *proxyTransport) logConnect(ctx context.Context, p *url.URL, req *http.Request, resp *http.Response) {
	if t.log == nil || !t.log.Enabled(ctx, LevelTrace) {
		return
	}
	attrs := []slog.Attr{
		slog.String("proxy", t.proxyAddr(p)),
		slog.Bool("proxy_tls", t.tlsToProxy(p)),
		slog.String("target", req.Host),
	}
	if resp == nil {
		attrs = append(attrs, headerAttr(req.Header, t.secrets))
		t.log.LogAttrs(ctx, LevelTrace, "stripe proxy CONNECT", attrs...)
		return
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode), headerAttr(resp.Header, t.secrets))
	t.log.LogAttrs(ctx, LevelTrace, "stripe proxy CONNECT answer", attrs...)
}
