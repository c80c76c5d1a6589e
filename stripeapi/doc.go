// Package stripeapi is a small Stripe API client built directly on net/http.
//
// It exists instead of stripe-go because stripesql needs only the transport
// (the SQL layer maps JSON to rows itself, driven by the OpenAPI spec) and
// because it must own the transport's policy: a pinned API version, client-side
// rate limiting, and a retry policy that actually retries what Stripe says is
// retryable (stripe-go does not retry 429 rate_limit, 409, 5xx with a JSON
// body, or responses carrying Stripe-Should-Retry: true).
//
// # Requests
//
// [Client.Get], [Client.Post] and [Client.Delete] make one logical API call
// and return the decoded JSON object. Parameters are an ordered [Params] list
// so that requests are byte-for-byte deterministic; [Params.AddNested] produces
// Stripe's bracket encoding (metadata[k]=v, items[0][price]=p). For GET and
// DELETE the parameters go in the query string, for POST in a form body.
//
// [Client.List] and [Client.Search] return an [Iter] that fetches one page per
// HTTP call, and only when the caller asks for an object beyond the current
// page, so a caller that stops early never pays for pages it does not read.
//
// # Rate limiting and retries
//
// Every HTTP attempt, including each retry, takes a token from a token bucket
// (golang.org/x/time/rate) before it is sent: one bucket for all calls and a
// second, stricter one that /search calls must also pass. Failed attempts are
// retried with exponential backoff and jitter on network errors, 409, 429 and
// 5xx, and whenever Stripe sends Stripe-Should-Retry: true; never when it sends
// Stripe-Should-Retry: false. A POST carries the same Idempotency-Key on every
// attempt, so a retried write is applied at most once. A write (POST,
// DELETE) that may have executed (no answer, 409, 429, 5xx) is retried for
// Config.WriteRetryWindow rather than MaxRetries times, waiting at least
// what Retry-After asks; if it still has no definitive answer it fails with
// *OutcomeUnknownError, and WithCallInfo tells a caller whether an attempt
// may have executed before a final 4xx.
//
// # Proxies, concurrency and the wire log
//
// [Config.Proxy] sends requests through an HTTP(S) proxy with Basic or Digest
// authentication and an SSL mode ([ProxySSL]: forward HTTP targets, CONNECT
// tunnels for HTTPS targets or for all). [Config.MaxConcurrency] bounds the
// requests in flight. A [Config.Logger] enabled for [LevelTrace] receives
// every HTTP exchange with headers and bodies, secrets redacted.
//
// # Errors and secrets
//
// A non-2xx response is returned as an [*Error]. Transport failures are
// wrapped with the method and path (never the query, which may hold customer
// data). The API key is only ever written to the Authorization header: it never
// appears in an error or a log record, and it is redacted from error messages
// echoed back by a server.
//
// A [Client] is safe for concurrent use by multiple goroutines.
package stripeapi
