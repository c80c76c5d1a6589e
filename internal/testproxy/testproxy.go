// Package testproxy is an HTTP proxy for tests. It listens on 127.0.0.1,
// optionally over TLS, requires credentials (Basic, or Digest with nonces it
// issues and checks), forwards absolute-form requests, opens CONNECT
// tunnels, and records everything it handled.
//
// It is a test helper: it trusts its clients' requests, verifies Digest
// answers with MD5 or SHA-256 and qop=auth only, and keeps every log entry.
package testproxy

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Config configures a Proxy.
type Config struct {
	// Auth is the scheme the proxy requires: "" (none), "basic" or "digest".
	Auth           string
	User, Password string
	// Algorithm is the Digest algorithm offered: "MD5" (the default) or
	// "SHA-256".
	Algorithm string
	// NonceUses makes a Digest nonce stale after that many accepted uses,
	// so that clients must handle stale=true; 0 means nonces never expire.
	NonceUses int
	// TLS serves the proxy over TLS with httptest's certificate (valid for
	// 127.0.0.1 and example.com), which CertPool and CertPEM return.
	TLS bool
	// Resolve maps the host:port a request or tunnel names to the address
	// to dial. Tests give targets names only the proxy can resolve (say
	// stripe.test), which proves a request went through the proxy. Nil
	// dials the name as given.
	Resolve func(hostport string) string
}

// Entry is one request the proxy handled.
type Entry struct {
	Method string // e.g. GET, POST, CONNECT
	Target string // the request target: an absolute URI, or host:port for CONNECT
	Auth   string // the Proxy-Authorization header received
	Status int    // the answer: 407 from the proxy, the upstream's status, or 200 for a tunnel
	TLS    bool   // the client spoke TLS to the proxy
	// Header is what a forwarded request carried upstream.
	Header http.Header
}

// Proxy is a running test proxy. Create it with Start.
type Proxy struct {
	cfg Config
	srv *httptest.Server
	up  *http.Transport

	mu      sync.Mutex
	entries []Entry
	nonces  map[string]int // issued nonce → accepted uses
	tunnels map[net.Conn]bool
}

// Start starts a proxy on 127.0.0.1 that stops when the test ends.
func Start(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	if cfg.Algorithm == "" {
		cfg.Algorithm = "MD5"
	}
	p := &Proxy{cfg: cfg, nonces: map[string]int{}, tunnels: map[net.Conn]bool{}}
	p.up = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, p.resolve(addr))
		},
	}
	p.srv = httptest.NewUnstartedServer(p)
	if cfg.TLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's URL, http:// or https:// as it serves.
func (p *Proxy) URL() string { return p.srv.URL }

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.srv.Listener.Addr().String() }

// localhostCert is httptest's certificate, valid for 127.0.0.1, ::1,
// example.com and *.example.com, which every httptest TLS server presents.
var localhostCert = sync.OnceValue(func() *x509.Certificate {
	s := httptest.NewTLSServer(http.NotFoundHandler())
	defer s.Close()
	return s.Certificate()
})

// CertPEM is httptest's certificate, which a TLS proxy and every
// httptest TLS server present, in PEM (for SSL_CERT_FILE).
func CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: localhostCert().Raw})
}

// CertPool holds httptest's certificate (see CertPEM).
func CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(localhostCert())
	return pool
}

// Entries returns a copy of the log, in arrival order.
func (p *Proxy) Entries() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Entry(nil), p.entries...)
}

// Close closes the open tunnels and stops the proxy.
func (p *Proxy) Close() {
	p.mu.Lock()
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.up.CloseIdleConnections()
}

func (p *Proxy) resolve(addr string) string {
	if p.cfg.Resolve != nil {
		return p.cfg.Resolve(addr)
	}
	return addr
}

func (p *Proxy) record(e Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, e)
}

// ServeHTTP handles one proxy request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := Entry{Method: r.Method, Target: r.RequestURI, Auth: r.Header.Get("Proxy-Authorization"), TLS: r.TLS != nil}
	if r.Method != http.MethodConnect && !r.URL.IsAbs() {
		e.Status = http.StatusBadRequest
		p.record(e)
		http.Error(w, "testproxy: not a proxy request: "+r.RequestURI, e.Status)
		return
	}
	if ok, stale := p.authorized(r); !ok {
		e.Status = http.StatusProxyAuthRequired
		p.record(e)
		w.Header().Set("Proxy-Authenticate", p.challenge(stale))
		http.Error(w, "testproxy: proxy authentication required", e.Status)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r, e)
		return
	}
	p.forward(w, r, e)
}

// forward passes an absolute-form request upstream, without the proxy's
// own headers.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, e Entry) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range []string{"Proxy-Authorization", "Proxy-Connection", "Connection", "Keep-Alive", "Te", "Trailer", "Upgrade"} {
		out.Header.Del(h)
	}
	e.Header = out.Header.Clone()
	resp, err := p.up.RoundTrip(out)
	if err != nil {
		e.Status = http.StatusBadGateway
		p.record(e)
		http.Error(w, "testproxy: "+err.Error(), e.Status)
		return
	}
	defer resp.Body.Close()
	e.Status = resp.StatusCode
	p.record(e)
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// tunnel opens a CONNECT tunnel to r.Host.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request, e Entry) {
	upstream, err := net.Dial("tcp", p.resolve(r.Host))
	if err != nil {
		e.Status = http.StatusBadGateway
		p.record(e)
		http.Error(w, "testproxy: "+err.Error(), e.Status)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		e.Status = http.StatusInternalServerError
		p.record(e)
		return
	}
	e.Status = http.StatusOK
	p.record(e)
	p.mu.Lock()
	p.tunnels[conn], p.tunnels[upstream] = true, true
	p.mu.Unlock()
	io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		io.Copy(upstream, rw) // rw's reader holds any bytes read past the CONNECT
		upstream.Close()
	}()
	go func() {
		io.Copy(conn, upstream)
		conn.Close()
		p.mu.Lock()
		delete(p.tunnels, conn)
		delete(p.tunnels, upstream)
		p.mu.Unlock()
	}()
}

// authorized checks r's Proxy-Authorization. stale reports a Digest
// answer that was right but used an expired nonce.
func (p *Proxy) authorized(r *http.Request) (ok, stale bool) {
	h := r.Header.Get("Proxy-Authorization")
	switch p.cfg.Auth {
	case "":
		return true, false
	case "basic":
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.cfg.User+":"+p.cfg.Password))
		return h == want, false
	case "digest":
		return p.checkDigest(r.Method, r.RequestURI, h)
	}
	panic("testproxy: unknown auth " + p.cfg.Auth)
}

// challenge is the Proxy-Authenticate value: a fresh nonce for Digest.
func (p *Proxy) challenge(stale bool) string {
	if p.cfg.Auth != "digest" {
		return `Basic realm="testproxy"`
	}
	var b [16]byte
	rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	p.mu.Lock()
	p.nonces[nonce] = 0
	p.mu.Unlock()
	return fmt.Sprintf(`Digest realm="testproxy", qop="auth", algorithm=%s, nonce="%s", opaque="opaque-1", stale=%t`,
		p.cfg.Algorithm, nonce, stale)
}

// checkDigest verifies a Digest answer (RFC 7616, qop=auth) for a request
// with the given method and target.
func (p *Proxy) checkDigest(method, target, h string) (ok, stale bool) {
	rest, found := strings.CutPrefix(h, "Digest ")
	if !found {
		return false, false
	}
	f := parseParams(rest)
	newHash := md5.New
	if p.cfg.Algorithm == "SHA-256" {
		newHash = sha256.New
	}
	hx := func(s string) string { return hexHash(newHash, s) }
	if f["username"] != p.cfg.User || f["realm"] != "testproxy" || f["uri"] != target ||
		f["qop"] != "auth" || f["opaque"] != "opaque-1" || f["nc"] == "" || f["cnonce"] == "" ||
		!strings.EqualFold(f["algorithm"], p.cfg.Algorithm) {
		return false, false
	}
	ha1 := hx(p.cfg.User + ":testproxy:" + p.cfg.Password)
	ha2 := hx(method + ":" + target)
	want := hx(ha1 + ":" + f["nonce"] + ":" + f["nc"] + ":" + f["cnonce"] + ":auth:" + ha2)
	if f["response"] != want {
		return false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	uses, issued := p.nonces[f["nonce"]]
	if !issued {
		return false, false
	}
	if p.cfg.NonceUses > 0 && uses >= p.cfg.NonceUses {
		return false, true
	}
	p.nonces[f["nonce"]] = uses + 1
	return true, false
}

func hexHash(newHash func() hash.Hash, s string) string {
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// parseParams parses `a="x", b=y` into a map, unquoting values.
func parseParams(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, s = b.String(), rest[min(i+1, len(rest)):]
		} else {
			val, s, _ = strings.Cut(rest, ",")
			val = strings.TrimSpace(val)
		}
		out[name] = val
	}
	return out
}
