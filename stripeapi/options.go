package stripeapi

// RequestOption adjusts a single call.
type RequestOption func(*requestOptions)

type requestOptions struct {
	account        string
	idempotencyKey string
	expand         []string
	beforePage     func() error
	info           *CallInfo
	fields         *Fields
}

// WithAccount sends the call on behalf of the Connect account acct
// (Stripe-Account header), overriding Config.Account. An empty acct keeps the
// default.
func WithAccount(acct string) RequestOption {
	return func(o *requestOptions) {
		if acct != "" {
			o.account = acct
		}
	}
}

// WithIdempotencyKey makes a POST use key as its Idempotency-Key instead of
// a generated one, so that the caller can safely repeat the same logical
// write across process restarts. It has no effect on GET and DELETE, which
// Stripe treats as idempotent already.
func WithIdempotencyKey(key string) RequestOption {
	return func(o *requestOptions) { o.idempotencyKey = key }
}

// WithExpand asks Stripe to expand the given fields, appending one expand[]
// parameter per path after the call's own parameters. On list and search
// calls the paths start with "data." (e.g. "data.customer").
func WithExpand(paths ...string) RequestOption {
	return func(o *requestOptions) { o.expand = append(o.expand, paths...) }
}

// WithBeforePage makes a list or search iterator call f before it fetches
// each page; an error from f ends the iteration with that error and nothing
// is sent. A caller uses it to account for, or refuse, every call it makes.
func WithBeforePage(f func() error) RequestOption {
	return func(o *requestOptions) { o.beforePage = f }
}

// WithCallInfo makes the call fill in info with how it went (attempts,
// whether an attempt may have executed, the request id), also when it
// fails. Writers use it to tell a write that did not happen from one
// whose outcome is unknown.
func WithCallInfo(info *CallInfo) RequestOption {
	return func(o *requestOptions) { o.info = info }
}

func collectOptions(opts []RequestOption) requestOptions {
	var o requestOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}
