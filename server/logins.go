package server

import (
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// Login throttling: the first freeFailures failed logins from an address
// cost nothing; each further one delays that address's connections by
// firstDelay, doubling up to maxDelay. MySQL's connection_control plugin
// does the same with linear growth; doubling reaches a useful delay
// sooner. A record is forgotten failureMemory after its last failure, and
// a successful login from the address clears it.
const (
	freeFailures  = 3
	firstDelay    = 250 * time.Millisecond
	maxDelay      = 30 * time.Second
	failureMemory = 15 * time.Minute
	// maxTracked bounds the memory an attacker with many addresses can
	// make the server use; beyond it the stalest records go first.
	maxTracked = 10_000
)

// erSecureTransportRequired is MySQL's ER_SECURE_TRANSPORT_REQUIRED.
const erSecureTransportRequired = 3159

// loginGuard wraps a mysql.Handler to log failed logins at Warn with the
// user and the client's address (never the password, which the server
// never sees in clear anyway), to slow down addresses that keep failing,
// and to refuse plaintext sessions when TLS is required.
type loginGuard struct {
	mysql.Handler
	log        *slog.Logger
	requireTLS bool
	// sleep and now are time.Sleep and time.Now, replaced in tests.
	sleep func(time.Duration)
	now   func() time.Time

	mu       sync.Mutex
	failures map[string]*failureRecord
}

type failureRecord struct {
	count int
	last  time.Time
}

func newLoginGuard(inner mysql.Handler, log *slog.Logger, requireTLS bool) *loginGuard {
	return &loginGuard{
		Handler: inner, log: log, requireTLS: requireTLS,
		sleep: time.Sleep, now: time.Now,
		failures: make(map[string]*failureRecord),
	}
}

// loginDelay is the delay after n failures.
func loginDelay(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := firstDelay
	for i := freeFailures + 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// clientHost is the address part of a remote address: failures count per
// host, not per source port.
func clientHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// delay is the current delay of host.
func (g *loginGuard) delay(host string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.failures[host]
	if r == nil || g.now().Sub(r.last) > failureMemory {
		return 0
	}
	return loginDelay(r.count)
}

// failed records a failure of host and returns the failures so far.
func (g *loginGuard) failed(host string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	r := g.failures[host]
	if r == nil || now.Sub(r.last) > failureMemory {
		if len(g.failures) >= maxTracked {
			g.prune(now)
		}
		r = &failureRecord{}
		g.failures[host] = r
	}
	r.count++
	r.last = now
	return r.count
}

// prune drops forgotten records, and if that is not enough the oldest
// half. Called with mu held.
func (g *loginGuard) prune(now time.Time) {
	var times []time.Time
	for h, r := range g.failures {
		if now.Sub(r.last) > failureMemory {
			delete(g.failures, h)
		} else {
			times = append(times, r.last)
		}
	}
	if len(g.failures) < maxTracked {
		return
	}
	// Records older than the mean age go: about half of them.
	var sum time.Duration
	for _, t := range times {
		sum += now.Sub(t)
	}
	cut := sum / time.Duration(len(times))
	for h, r := range g.failures {
		if now.Sub(r.last) >= cut {
			delete(g.failures, h)
		}
	}
}

// NewConnection implements mysql.Handler. An address that keeps failing
// waits before it even gets the handshake, so that opening many
// connections at once does not get around the delay.
func (g *loginGuard) NewConnection(c *mysql.Conn) {
	if d := g.delay(clientHost(c.RemoteAddr())); d > 0 {
		g.sleep(d)
	}
	g.Handler.NewConnection(c)
}

// authFailurePrefix starts the reason vitess gives ConnectionAborted for
// a wrong password or unknown user (go/mysql/server.go); the user follows.
const authFailurePrefix = "Error authenticating user "

// ConnectionAborted implements mysql.Handler. vitess calls it before it
// sends the client the error, so sleeping here delays the answer.
func (g *loginGuard) ConnectionAborted(c *mysql.Conn, reason string) error {
	if rest, ok := strings.CutPrefix(reason, authFailurePrefix); ok {
		user, _, _ := strings.Cut(rest, " using: ")
		host := clientHost(c.RemoteAddr())
		n := g.failed(host)
		d := loginDelay(n)
		g.log.Warn("login failed", "user", user, "client", host, "conn", c.ConnectionID,
			"failures", n, "delay", d.String())
		if d > 0 {
			g.sleep(d)
		}
	}
	return g.Handler.ConnectionAborted(c, reason)
}

// ConnectionAuthenticated implements mysql.Handler.
func (g *loginGuard) ConnectionAuthenticated(c *mysql.Conn) error {
	if g.requireTLS && !c.TLSEnabled() {
		// vitess writes its own refusal for plaintext handshakes but then
		// carries on authenticating; this is where the session ends.
		return mysql.NewSQLError(erSecureTransportRequired, mysql.SSUnknownSQLState,
			"Connections using insecure transport are prohibited while --require_secure_transport=ON.")
	}
	if err := g.Handler.ConnectionAuthenticated(c); err != nil {
		return err
	}
	g.mu.Lock()
	delete(g.failures, clientHost(c.RemoteAddr()))
	g.mu.Unlock()
	return nil
}
