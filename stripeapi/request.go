package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Object is one decoded Stripe JSON object. Numbers are json.Number, so
// amounts and timestamps never lose precision; nested objects are
// map[string]any.
type Object map[string]any

// ID returns the object's "id" field, or "" if it has none.
func (o Object) ID() string {
	id, _ := o["id"].(string)
	return id
}

// EscapeID escapes id for use as one segment of a request path, as in
// "/v1/customers/" + EscapeID(id). Ids often come from user input (a SQL
// WHERE clause); escaping keeps a value such as "x/../../v1/charges" or
// "x?limit=1" from changing which endpoint is called.
func EscapeID(id string) string {
	if id == "." || id == ".." {
		return strings.Repeat("%2E", len(id))
	}
	return url.PathEscape(id)
}

// request is one logical API call, which may take several HTTP attempts.
type request struct {
	method         string
	path           string
	params         Params
	account        string
	idempotencyKey string // POST only
	search         bool   // also governed by the search limiter
	info           *CallInfo
	fields         *Fields // a list's projection (WithFields), nil for all
}

func (c *Client) call(ctx context.Context, method, path string, params Params, opts []RequestOption) (Object, error) {
	r, err := c.newRequest(method, path, params, collectOptions(opts))
	if err != nil {
		return nil, err
	}
	return c.do(ctx, r)
}

// newRequest validates path and applies the options. params is copied, so
// the caller may reuse it.
func (c *Client) newRequest(method, path string, params Params, o requestOptions) (*request, error) {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("stripe: %s %q: path must start with / and carry no query; pass parameters as Params", method, path)
	}
	if _, err := url.Parse(c.baseURL + path); err != nil {
		return nil, fmt.Errorf("stripe: %s: invalid path: %w", method, err)
	}
	r := &request{
		method:  method,
		path:    path,
		params:  make(Params, 0, len(params)+len(o.expand)+2),
		account: c.account,
		search:  strings.HasSuffix(path, "/search"),
		info:    o.info,
		fields:  o.fields,
	}
	if r.info == nil {
		r.info = new(CallInfo)
	}
	r.params = append(r.params, params...)
	for _, e := range o.expand {
		r.params.Add("expand[]", e)
	}
	if o.account != "" {
		r.account = o.account
	}
	if method == http.MethodPost {
		r.idempotencyKey = o.idempotencyKey
		if r.idempotencyKey == "" {
			r.idempotencyKey = c.newKey()
		}
	}
	// net/http would reject these only when sending, which the retry loop
	// would take for a network failure.
	if hasCtl(r.account) || hasCtl(r.idempotencyKey) {
		return nil, r.errorf("Stripe-Account or Idempotency-Key contains control characters")
	}
	*r.info = CallInfo{IdempotencyKey: r.idempotencyKey}
	return r, nil
}

// errorf wraps a failure of r with its method and path. The query string is
// left out: it may contain customer data such as e-mail addresses.
func (r *request) errorf(format string, args ...any) error {
	return fmt.Errorf("stripe: %s %s: "+format, append([]any{r.method, r.path}, args...)...)
}

// response is the result of one HTTP attempt.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error // transport failure: no complete response was received
}

// do runs r: up to 1+maxRetries HTTP attempts, each waiting for the rate
// limiters first, with backoff between them; a write that may have
// executed is retried for the write retry window instead (see
// retryBudget). A non-2xx final response is returned as an *Error,
// unwrapped, since it carries its own context; a write that may have
// executed and got no definitive answer fails with *OutcomeUnknownError.
func (c *Client) do(ctx context.Context, r *request) (Object, error) {
	encoded := r.params.Encode()
	first := time.Now()
	defer func() { r.info.Elapsed = time.Since(first) }()
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx, r); err != nil {
			return nil, r.unknownOr(attempt-1, first, err, r.errorf("waiting for rate limiter: %w", err))
		}
		start := time.Now()
		res := c.send(ctx, r, encoded)
		c.requests.Add(1)
		r.info.Attempts = attempt
		if id := res.header.Get("Request-Id"); id != "" {
			r.info.RequestID = id
		}
		if d := res.header.Get("Date"); d != "" {
			if t, err := http.ParseTime(d); err == nil {
				r.info.ServerTime = t
			}
		}
		if r.method != http.MethodGet && res.mayHaveExecuted() {
			r.info.Ambiguous = true
		}
		c.adapt(r, res, time.Since(start))

		var obj Object
		var failure error
		switch {
		case res.err != nil:
			failure = res.err
		case res.status < 200 || res.status > 299:
			failure = newError(res.status, res.header, res.body, c.key)
		default:
			var err error
			if r.fields != nil {
				obj, err = decodeList(res.body, r.fields)
			} else {
				obj, err = decodeObject(res.body)
			}
			if err != nil {
				failure = r.errorf("decoding %d response: %w", res.status, err)
			}
		}
		if c.onRequest != nil {
			ev := RequestEvent{
				Method: r.method, Path: r.path, Attempt: attempt,
				Status: res.status, Err: failure, Duration: time.Since(start), Search: r.search,
			}
			if r.method != http.MethodPost {
				ev.RawQuery = encoded
			}
			c.onRequest(ctx, ev)
		}
		if failure == nil {
			return obj, nil
		}

		delay, retry := c.nextRetry(ctx, r, attempt, first, res)
		if !retry {
			var final error
			switch {
			case res.err == nil:
				final = failure
			case attempt == 1 || ctx.Err() != nil:
				final = r.errorf("%w", res.err)
			default:
				final = r.errorf("after %d attempts: %w", attempt, res.err)
			}
			if res.err == nil && !res.retryableStatus() {
				return nil, final // Stripe's definitive answer
			}
			return nil, r.unknownOr(attempt, first, failure, final)
		}

		c.logRetry(ctx, r, attempt+1, delay, res, failure)
		c.retries.Add(1)
		if err := sleep(ctx, delay); err != nil {
			return nil, r.unknownOr(attempt, first, failure, r.errorf("waiting to retry after %v: %w", failure, err))
		}
	}
}

// logRetry records at Debug level that attempt is about to be made after
// delay, and why.
func (c *Client) logRetry(ctx context.Context, r *request, attempt int, delay time.Duration, res response, failure error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("attempt", attempt),
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Duration("backoff", delay),
	}
	if apiErr, ok := failure.(*Error); ok {
		attrs = append(attrs,
			slog.Int("status", res.status),
			slog.String("code", apiErr.Code),
			slog.String("request_id", apiErr.RequestID))
	} else {
		attrs = append(attrs, slog.String("error", failure.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "stripe request retry", attrs...)
}

// send makes one HTTP attempt and reads the whole response.
func (c *Client) send(ctx context.Context, r *request, encoded string) response {
	u := c.baseURL + r.path
	var body io.Reader
	if r.method == http.MethodPost {
		body = strings.NewReader(encoded)
	} else if encoded != "" {
		u += "?" + encoded
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return response{err: err}
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+c.key)
	h.Set("Stripe-Version", APIVersion)
	h.Set("User-Agent", c.userAgent)
	h.Set("Accept", "application/json")
	if r.account != "" {
		h.Set("Stripe-Account", r.account)
	}
	if r.method == http.MethodPost {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set("Idempotency-Key", r.idempotencyKey)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, query included; the caller
		// wraps with method and path instead.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return response{err: err}
	}
	defer resp.Body.Close()
	res := response{status: resp.StatusCode, header: resp.Header}
	if res.body, err = io.ReadAll(resp.Body); err != nil {
		res.err = fmt.Errorf("reading %d response: %w", resp.StatusCode, err)
	}
	return res
}
