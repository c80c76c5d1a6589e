package stripeapi

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// digestSession holds the last Digest challenge (RFC 7616) of one proxy,
// so that later requests can answer it without another 407 round trip.
type digestSession struct {
	mu sync.Mutex
	ch *digestChallenge // nil before the first challenge
	nc uint32           // nonce count: requests answered with ch.nonce
}

// digestChallenge is the part of a Digest challenge a client needs.
type digestChallenge struct {
	realm, nonce, opaque string
	algorithm            string // canonical: MD5, MD5-sess, SHA-256 or SHA-256-sess
	qop                  string // "auth", or "" for an RFC 2069 challenge
	stale                bool
}

// challenge adopts the first usable Digest challenge among the
// Proxy-Authenticate values. It reports false if there is none, or if it
// is the challenge already being answered and not stale: then the proxy
// refused our answer, and the same answer would be refused again.
func (d *digestSession) challenge(values []string) bool {
	var c *digestChallenge
	for _, v := range values {
		for _, ch := range parseChallenges(v) {
			if c == nil && strings.EqualFold(ch.scheme, "Digest") {
				c = digestFrom(ch.params)
			}
		}
	}
	if c == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch != nil && d.ch.nonce == c.nonce && d.nc > 0 && !c.stale {
		return false
	}
	d.ch, d.nc = c, 0
	return true
}

// digestFrom returns the challenge in params, or nil if this client cannot
// answer it (an unknown algorithm, or a qop without "auth").
func digestFrom(params map[string]string) *digestChallenge {
	c := &digestChallenge{
		realm:  params["realm"],
		nonce:  params["nonce"],
		opaque: params["opaque"],
		stale:  strings.EqualFold(params["stale"], "true"),
	}
	if c.nonce == "" {
		return nil
	}
	switch strings.ToUpper(params["algorithm"]) {
	case "", "MD5":
		c.algorithm = "MD5"
	case "MD5-SESS":
		c.algorithm = "MD5-sess"
	case "SHA-256":
		c.algorithm = "SHA-256"
	case "SHA-256-SESS":
		c.algorithm = "SHA-256-sess"
	default:
		return nil
	}
	if q, ok := params["qop"]; ok {
		for opt := range strings.SplitSeq(q, ",") {
			if strings.EqualFold(strings.TrimSpace(opt), "auth") {
				c.qop = "auth"
			}
		}
		if c.qop == "" {
			return nil // auth-int only: we would have to hash the body
		}
	}
	return c
}

// authorization answers the current challenge for method and uri (the
// request target), or returns "" if there has been no challenge yet.
func (d *digestSession) authorization(user, password, method, uri string) string {
	d.mu.Lock()
	c := d.ch
	if c == nil {
		d.mu.Unlock()
		return ""
	}
	d.nc++
	nc := fmt.Sprintf("%08x", d.nc)
	d.mu.Unlock()
	return c.answer(user, password, method, uri, nc, newCnonce())
}

// answer computes the Authorization value (RFC 7616 section 3.4).
func (c *digestChallenge) answer(user, password, method, uri, nc, cnonce string) string {
	newHash := md5.New
	if strings.HasPrefix(c.algorithm, "SHA-256") {
		newHash = sha256.New
	}
	h := func(s string) string { return hexHash(newHash, s) }

	ha1 := h(user + ":" + c.realm + ":" + password)
	if strings.HasSuffix(c.algorithm, "-sess") {
		ha1 = h(ha1 + ":" + c.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	var response string
	if c.qop == "" {
		response = h(ha1 + ":" + c.nonce + ":" + ha2)
	} else {
		response = h(ha1 + ":" + c.nonce + ":" + nc + ":" + cnonce + ":" + c.qop + ":" + ha2)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, nonce=%s, uri=%s, algorithm=%s, response="%s"`,
		quote(user), quote(c.realm), quote(c.nonce), quote(uri), c.algorithm, response)
	if c.qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce="%s"`, c.qop, nc, cnonce)
	}
	if c.opaque != "" {
		fmt.Fprintf(&b, `, opaque=%s`, quote(c.opaque))
	}
	return b.String()
}

func hexHash(newHash func() hash.Hash, s string) string {
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func newCnonce() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// quote renders s as an HTTP quoted-string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// authChallenge is one challenge of a WWW- or Proxy-Authenticate header.
type authChallenge struct {
	scheme string
	params map[string]string // names lower-cased
}

// parseChallenges parses a header value holding one or more challenges,
// e.g. `Basic realm="a", Digest realm="b", nonce="n", qop="auth,auth-int"`
// (RFC 9110 section 11.6.1). It is lenient: it never fails, it just stops
// at what it cannot read.
func parseChallenges(v string) []authChallenge {
	var out []authChallenge
	i := 0
	skip := func(cut string) {
		for i < len(v) && strings.IndexByte(cut, v[i]) >= 0 {
			i++
		}
	}
	token := func() string {
		start := i
		for i < len(v) && strings.IndexByte(" \t,=\"", v[i]) < 0 {
			i++
		}
		return v[start:i]
	}
	for i < len(v) {
		skip(" \t,")
		name := token()
		if name == "" {
			if i < len(v) {
				i++ // a stray character; move on
			}
			continue
		}
		skip(" \t")
		if i >= len(v) || v[i] != '=' || len(out) == 0 {
			if i < len(v) && v[i] == '=' { // token68 of a scheme-less start: skip it
				skip("=")
				continue
			}
			out = append(out, authChallenge{scheme: name, params: map[string]string{}})
			continue
		}
		i++ // '='
		skip(" \t")
		var val string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			i++ // closing quote
			val = b.String()
		} else {
			val = token()
			for i < len(v) && v[i] == '=' { // token68 padding
				i++
				val += "="
			}
		}
		out[len(out)-1].params[strings.ToLower(name)] = val
	}
	return out
}
