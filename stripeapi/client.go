package stripeapi

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// APIVersion is the Stripe API version sent as Stripe-Version on every
// request. It is pinned to the version of the OpenAPI spec the schema was built
// from: without the header Stripe renders objects in the account's default
// version, and their shape would then depend on a dashboard setting.
const APIVersion = "2026-08-26.dahlia"

// DefaultBaseURL is the base URL of the Stripe API.
const DefaultBaseURL = "https://api.stripe.com"

// Defaults applied by [New] to zero fields of [Config].
const (
	defaultTestRate   = 25  // Stripe's documented test-mode limit, requests/s.
	defaultLiveRate   = 100 // Stripe's documented live-mode limit, requests/s.
	defaultSearchRate = 20  // Stripe's documented search limit, requests/s.
	defaultBurst      = 5
	defaultMaxRetries = 4
	defaultMinBackoff = 250 * time.Millisecond
	defaultMaxBackoff = 8 * time.Second
	// defaultWriteRetryWindow: long enough to ride out a Stripe incident's
	// brief unavailability or a burst of 429s, short enough that a client
	// waiting on the statement is not left hanging.
	defaultWriteRetryWindow = time.Minute

	// defaultTimeout bounds one HTTP attempt when Config.HTTPClient is nil.
	// It matches stripe-go: long enough for a page of deeply expanded
	// objects, short enough that a stuck connection is eventually retried.
	defaultTimeout = 80 * time.Second
)

// modulePath is used to find this module's version for the User-Agent.
const modulePath = "github.com/stripesql/stripesql"

// Mode is the Stripe mode (test or live) that an API key operates in.
type Mode int

// The modes. The zero Mode is ModeTest.
const (
	ModeTest Mode = iota
	ModeLive
)

// ModeOfKey reports the mode of an API key from its prefix: secret and
// restricted live keys (sk_live_, rk_live_) are live, anything else is test.
// Erring towards test means an unrecognised key gets the stricter test-mode
// rate limit.
func ModeOfKey(key string) Mode {
	if strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_") {
		return ModeLive
	}
	return ModeTest
}

// String returns "test" or "live".
func (m Mode) String() string {
	switch m {
	case ModeTest:
		return "test"
	case ModeLive:
		return "live"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Config configures a [Client]. Only APIKey is required; every zero field
// takes the default documented on it.
type Config struct {
	// BaseURL is the API root, DefaultBaseURL if empty. It may point at an
	// emulator such as stripe-mock ("http://127.0.0.1:12111").
	BaseURL string

	// APIKey is sent as "Authorization: Bearer <key>". It is never logged
	// and never included in an error.
	APIKey string

	// Account is the default Stripe-Account header (a Connect account id);
	// empty sends none. WithAccount overrides it per call.
	Account string

	// HTTPClient sends the requests. If nil, a client with an 80 s
	// per-attempt timeout and a connection pool sized for bursts is used,
	// configured by Proxy and RootCAs.
	HTTPClient *http.Client

	// Proxy routes requests through an HTTP(S) proxy, with Basic or Digest
	// authentication and an SSL mode; see [ProxyConfig]. Nil keeps
	// net/http's behaviour (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; credentials
	// only from the proxy URL, Basic only). Ignored if HTTPClient is set.
	Proxy *ProxyConfig

	// RootCAs, if set, replaces the system roots when verifying Stripe's
	// certificate and a TLS proxy's; tests use it to trust httptest
	// servers. Ignored if HTTPClient is set.
	RootCAs *x509.CertPool

	// MaxConcurrency bounds the HTTP requests in flight at once, across
	// all calls; a request waits for a free slot, or until its context
	// ends. Zero or negative means no bound.
	MaxConcurrency int

	// Rate is the sustained request rate, in requests/s, shared by all
	// calls. Zero means Stripe's documented limit for the key's mode: 25
	// (test) or 100 (live). Negative means unlimited.
	Rate float64

	// SearchRate is the rate for search calls (Client.Search, and any call
	// whose path ends in /search), which must also pass the Rate limiter.
	// Zero means 20, Stripe's search limit. Negative means unlimited.
	SearchRate float64

	// EndpointRate is the rate of each endpoint (a method and a path with
	// its ids as {id}: GET /v1/customers, GET /v1/customers/{id}), in
	// requests/s, within Rate. Zero means 25, Stripe's documented
	// per-endpoint default, unless Rate is negative (no client-side pacing
	// at all). Negative means unlimited.
	EndpointRate float64

	// Burst is the token-bucket size of the global and search limiters:
	// how many requests may go out back to back before Rate applies. Zero
	// or negative means 5, which absorbs the small fan-out of a query
	// without tripping Stripe's own limiter. An endpoint's limiter has no
	// burst (see endpointBurst).
	Burst int

	// MaxRetries is the number of retries after the first attempt. Zero
	// means 4; negative disables retries.
	MaxRetries int

	// WriteRetryWindow is how long a write (POST, DELETE) keeps being
	// retried once one of its attempts may have executed (no answer, a
	// 409, 429 or 5xx), measured from its first attempt: Stripe keeps an
	// idempotency key for at least 24 hours, so retrying with the same key
	// stays safe, and a longer window turns more unknown outcomes into
	// known ones. The call's context still wins. Zero means one minute;
	// negative means MaxRetries only. See [OutcomeUnknownError].
	WriteRetryWindow time.Duration

	// MinBackoff and MaxBackoff bound the wait between retries, which grows
	// exponentially from MinBackoff with equal jitter and is capped at
	// MaxBackoff. Zero or negative values mean 250ms and 8s.
	MinBackoff, MaxBackoff time.Duration

	// Logger receives retry records at Debug level and, if it is enabled
	// for LevelTrace, every HTTP request and response with its headers and
	// body, secrets redacted (see [LevelTrace]). Nil discards them.
	Logger *slog.Logger

	// NewIdempotencyKey returns a fresh Idempotency-Key for a POST. Nil
	// means a random UUIDv4 from crypto/rand.
	NewIdempotencyKey func() string

	// OnRequest, if set, is called once per HTTP attempt after it completes
	// (in the calling goroutine), for metrics and tests.
	OnRequest func(ctx context.Context, ev RequestEvent)
}

// RequestEvent describes one completed HTTP attempt; see Config.OnRequest.
type RequestEvent struct {
	Method   string
	Path     string // without the query string
	RawQuery string // encoded query string; empty for POST, whose params are in the body
	Attempt  int    // 1 for the first attempt of a call, 2 for its first retry, ...
	Status   int    // HTTP status, or 0 if no response was received
	// Err is the attempt's failure, if any: a transport error, or an *Error
	// for a non-2xx status.
	Err      error
	Duration time.Duration // time on the wire, excluding rate-limiter waits
	Search   bool          // the call went through the search limiter
}

// Stats are a Client's cumulative counters since it was created.
type Stats struct {
	Requests      int64         // HTTP attempts sent, including retries
	Retries       int64         // retries scheduled after a failed attempt
	ThrottledWait time.Duration // total time calls spent waiting on the rate limiters
}

// Client calls the Stripe API. Create one with [New]; it is safe for
// concurrent use, and all of its configuration is fixed at creation.
type Client struct {
	baseURL    string
	key        string
	account    string
	mode       Mode
	userAgent  string
	hc         *http.Client
	limiter    *adaptive     // every call
	endpoints  *endpoints    // every call, by its endpoint
	search     *rate.Limiter // /search calls, in addition to limiter
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	window     time.Duration // WriteRetryWindow; <= 0: MaxRetries only
	log        *slog.Logger
	newKey     func() string
	onRequest  func(context.Context, RequestEvent)

	requests  atomic.Int64
	retries   atomic.Int64
	throttled atomic.Int64 // nanoseconds
	// pause is the limiter's sleep (sleep); tests replace it.
	pause func(context.Context, time.Duration) error
}

// New returns a Client for cfg. It fails if the API key is missing or
// malformed, or if BaseURL is not an http(s) URL.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("stripe: missing API key")
	}
	if strings.Contains(cfg.APIKey, " ") || hasCtl(cfg.APIKey) {
		// Checked here because net/http would otherwise reject the header
		// only at request time, on every request.
		return nil, errors.New("stripe: API key contains whitespace or control characters")
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:    base,
		key:        cfg.APIKey,
		account:    cfg.Account,
		mode:       ModeOfKey(cfg.APIKey),
		userAgent:  userAgent(),
		hc:         cfg.HTTPClient,
		maxRetries: cfg.MaxRetries,
		minBackoff: cfg.MinBackoff,
		maxBackoff: cfg.MaxBackoff,
		window:     cfg.WriteRetryWindow,
		log:        cfg.Logger,
		newKey:     cfg.NewIdempotencyKey,
		onRequest:  cfg.OnRequest,
	}
	if c.hc, err = newHTTPClient(cfg); err != nil {
		return nil, err
	}
	burst := cfg.Burst
	if burst <= 0 {
		burst = defaultBurst
	}
	defRate := float64(defaultTestRate)
	if c.mode == ModeLive {
		defRate = defaultLiveRate
	}
	c.limiter = newAdaptive(cfg.Rate, defRate, burst)
	epRate := cfg.EndpointRate
	switch {
	case epRate == 0 && cfg.Rate >= 0:
		epRate = defaultEndpointRate
	case epRate <= 0:
		epRate = math.Inf(1)
	}
	c.endpoints = &endpoints{rate: epRate, m: map[string]*adaptive{}}
	c.search = newLimiter(cfg.SearchRate, defaultSearchRate, burst)
	if c.maxRetries == 0 {
		c.maxRetries = defaultMaxRetries
	}
	if c.minBackoff <= 0 {
		c.minBackoff = defaultMinBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = defaultMaxBackoff
	}
	if c.window == 0 {
		c.window = defaultWriteRetryWindow
	}
	c.maxBackoff = max(c.maxBackoff, c.minBackoff)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.newKey == nil {
		c.newKey = newUUID
	}
	return c, nil
}

// Mode reports whether the client's key is a test or a live key.
func (c *Client) Mode() Mode { return c.mode }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.requests.Load(),
		Retries:       c.retries.Load(),
		ThrottledWait: time.Duration(c.throttled.Load()),
	}
}

// Get retrieves path (e.g. "/v1/customers/"+EscapeID(id)) with params in the
// query string. A path ending in /search also waits on the search limiter.
func (c *Client) Get(ctx context.Context, path string, params Params, opts ...RequestOption) (Object, error) {
	return c.call(ctx, http.MethodGet, path, params, opts)
}

// Post sends params as a form body to path. It always carries an
// Idempotency-Key, the same on every retry, so that it takes effect at most
// once.
func (c *Client) Post(ctx context.Context, path string, params Params, opts ...RequestOption) (Object, error) {
	return c.call(ctx, http.MethodPost, path, params, opts)
}

// Delete deletes path, with params in the query string.
func (c *Client) Delete(ctx context.Context, path string, params Params, opts ...RequestOption) (Object, error) {
	return c.call(ctx, http.MethodDelete, path, params, opts)
}

// hasCtl reports whether s contains a control character, which no HTTP
// header value may carry.
func hasCtl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

func parseBaseURL(s string) (string, error) {
	if s == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("stripe: invalid BaseURL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("stripe: invalid BaseURL %q: want http(s)://host[:port]", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("stripe: invalid BaseURL %q: must not carry credentials, a query or a fragment", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// newLimiter returns a token bucket of rate r, or def if r is zero, or
// unlimited if r is negative.
func newLimiter(r, def float64, burst int) *rate.Limiter {
	switch {
	case r == 0:
		r = def
	case r < 0:
		return rate.NewLimiter(rate.Inf, burst)
	}
	return rate.NewLimiter(rate.Limit(r), burst)
}

func defaultHTTPClient() *http.Client {
	var rt http.RoundTripper
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		// The limiter lets Burst requests out at once, all to one host; the
		// default of 2 idle connections per host would make most of them
		// pay for a fresh TLS handshake.
		t.MaxIdleConnsPerHost = 32
		rt = t
	}
	return &http.Client{Transport: rt, Timeout: defaultTimeout}
}

// userAgent identifies stripesql and its version to Stripe, which helps
// when asking Stripe support about a request.
func userAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		m := &bi.Main
		if m.Path != modulePath {
			m = nil
			for _, d := range bi.Deps {
				if d.Path == modulePath {
					m = d
					break
				}
			}
		}
		if m != nil && m.Version != "" && m.Version != "(devel)" {
			v = m.Version
		}
	}
	return "stripesql/" + v + " (" + runtime.Version() + ")"
}
