package stripeapi

import (
	"crypto/tls"
	"io"
	"net/http"
	"sync"
)

// newHTTPClient returns the *http.Client a Client sends through: cfg's own,
// or one built from cfg.Proxy and cfg.RootCAs. Its transport is wrapped, from
// the outside in, by the concurrency bound (cfg.MaxConcurrency) and the wire
// log (cfg.Logger at LevelTrace). With a proxy the wire log sits below the
// proxy authentication, so that it shows the 407 challenges and the
// authenticated retries as they are sent.
func newHTTPClient(cfg Config) (*http.Client, error) {
	wire := func(rt http.RoundTripper) http.RoundTripper { return rt }
	if cfg.Logger != nil {
		secrets := []string{cfg.APIKey}
		if cfg.Proxy != nil {
			secrets = append(secrets, cfg.Proxy.Password)
			if cfg.Proxy.URL != nil {
				if pw, ok := cfg.Proxy.URL.User.Password(); ok {
					secrets = append(secrets, pw)
				}
			}
		}
		wire = func(rt http.RoundTripper) http.RoundTripper {
			return &wireLog{next: rt, log: cfg.Logger, secrets: secrets}
		}
	}

	var hc *http.Client
	switch {
	case cfg.HTTPClient != nil:
		c := *cfg.HTTPClient
		if c.Transport == nil {
			c.Transport = http.DefaultTransport
		}
		c.Transport = wire(c.Transport)
		hc = &c
	case cfg.Proxy != nil:
		pt, err := newProxyTransport(*cfg.Proxy, cfg.RootCAs, cfg.Logger, wire)
		if err != nil {
			return nil, err
		}
		hc = &http.Client{Transport: pt, Timeout: defaultTimeout}
	default:
		hc = defaultHTTPClient()
		if t, ok := hc.Transport.(*http.Transport); ok && cfg.RootCAs != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs}
		}
		hc.Transport = wire(hc.Transport)
	}
	if cfg.MaxConcurrency > 0 {
		hc.Transport = &concurrencyLimit{next: hc.Transport, slots: make(chan struct{}, cfg.MaxConcurrency)}
	}
	return hc, nil
}

// Account returns the Connect account the client acts on by default
// (Config.Account), or "" for the platform account itself.
func (c *Client) Account() string { return c.account }

// concurrencyLimit is an http.RoundTripper that lets at most cap(slots)
// requests be in flight at once. A request holds its slot from before it
// is sent until its response body is closed (the client reads every body
// whole and closes it), so the bound covers the whole exchange.
type concurrencyLimit struct {
	next  http.RoundTripper
	slots chan struct{}
}

// RoundTrip implements http.RoundTripper. It waits for a slot, or until
// the request's context is done.
func (l *concurrencyLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case l.slots <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close() // the RoundTripper contract, even on failure
		}
		return nil, req.Context().Err()
	}
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		<-l.slots
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(func() { <-l.slots })}
	return resp, nil
}

// CloseIdleConnections passes the call on to the wrapped transport.
func (l *concurrencyLimit) CloseIdleConnections() { closeIdle(l.next) }

// releasingBody gives back a concurrency slot when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
