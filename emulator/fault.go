package emulator

import (
	"net/http"
	"strings"
)

// A FaultKind is a failure the emulator can inject in place of a response.
type FaultKind int

const (
	// FaultRateLimit answers 429 with code rate_limit, as Stripe's rate
	// limiter does, without executing the request.
	FaultRateLimit FaultKind = iota + 1
	// FaultLockTimeout answers 429 with code lock_timeout (an object-lock
	// conflict) without executing the request.
	FaultLockTimeout
	// FaultServerError answers 500 with type api_error without executing
	// the request.
	FaultServerError
	// FaultDropConnection closes the connection before doing anything.
	FaultDropConnection
	// FaultDropAfterCommit executes the request and commits its effects
	// (including the idempotency record), then closes the connection
	// without responding: the client cannot tell whether it happened.
	FaultDropAfterCommit
	// FaultCommitThenRateLimit executes the first matching request and
	// commits it, then answers 429 rate_limit in place of its answer, as
	// a proxy or a limiter between client and Stripe may; the following
	// matching requests (up to Times in all) answer 429 without executing.
	// With a long Times, a client sees only 429s for a write that happened.
	FaultCommitThenRateLimit
	// FaultCommitThenServerError is FaultCommitThenRateLimit with 500
	// api_error answers.
	FaultCommitThenServerError

	// The kinds FaultCommitThen* fire as on their first request.
	faultCommitAnswerRateLimit
	faultCommitAnswerServerError
)

// Forever, as a Fault's Times, makes it fire on every matching request
// until ClearFaults: with FaultDropAfterCommit, every attempt of a write
// commits (or replays) and loses its answer.
const Forever = 1 << 30

// A Fault makes matching requests fail. Method "" matches any method; Path
// is an exact path or, ending in '*', a prefix. The first After matching
// requests pass untouched, then the next Times (default 1) fail.
type Fault struct {
	Method string
	Path   string
	Kind   FaultKind
	Times  int
	After  int
}

type faultState struct {
	Fault
	skipped, fired int
}

// InjectFault arms a fault for the next matching requests.
func (e *Emulator) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultState{Fault: f})
}

// ClearFaults disarms every pending fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// afterCommit replaces the answer of a request that was executed and
// committed under a FaultCommitThen* fault with that fault's error. The
// request's effects and its idempotency record stay: a retry with the
// same key replays the real answer.
func afterCommit(k FaultKind, status int, body []byte) (int, []byte) {
	var err *apiError
	switch k {
	case faultCommitAnswerRateLimit:
		err = faultError(FaultRateLimit)
	case faultCommitAnswerServerError:
		err = faultError(FaultServerError)
	default:
		return status, body
	}
	return err.status, encode(err.body())
}

func (f *Fault) matches(method, path string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return f.Path == path
}

// takeFault returns the kind of the fault that fires for this request, or
// 0. Faults are consulted in injection order and the first one that fires
// wins; a fault that is still skipping counts the request as skipped.
// Spent faults are dropped. It must be called with e.mu held.
func (e *Emulator) takeFault(method, path string) FaultKind {
	var kind FaultKind
	for _, f := range e.faults {
		if kind != 0 || !f.matches(method, path) {
			continue
		}
		if f.skipped < f.After {
			f.skipped++
			continue
		}
		f.fired++
		kind = f.Kind
		switch {
		case kind == FaultCommitThenRateLimit && f.fired == 1:
			kind = faultCommitAnswerRateLimit
		case kind == FaultCommitThenRateLimit:
			kind = FaultRateLimit
		case kind == FaultCommitThenServerError && f.fired == 1:
			kind = faultCommitAnswerServerError
		case kind == FaultCommitThenServerError:
			kind = FaultServerError
		}
	}
	live := e.faults[:0]
	for _, f := range e.faults {
		if f.fired < f.Times {
			live = append(live, f)
		}
	}
	e.faults = live
	return kind
}

// faultError is the response of the faults that answer.
func faultError(k FaultKind) *apiError {
	switch k {
	case FaultRateLimit:
		return &apiError{status: http.StatusTooManyRequests, typ: "invalid_request_error", code: "rate_limit",
			message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."}
	case FaultLockTimeout:
		return &apiError{status: http.StatusTooManyRequests, typ: "invalid_request_error", code: "lock_timeout",
			message: "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. " +
				"If you see this error intermittently, retry the request. If you see this error frequently and are making multiple " +
				"concurrent requests to a single object, make your requests serially or at a lower rate."}
	case FaultServerError:
		return &apiError{status: http.StatusInternalServerError, typ: "api_error",
			message: "An unknown error occurred while processing your request. Please retry."}
	}
	return nil
}

// faultHeaders are the headers Stripe sends with such errors.
func faultHeaders(k FaultKind, h http.Header) {
	switch k {
	case FaultRateLimit, faultCommitAnswerRateLimit:
		h.Set("Stripe-Rate-Limited-Reason", "global-rate")
	case FaultLockTimeout, FaultServerError, faultCommitAnswerServerError:
		h.Set("Stripe-Should-Retry", "true")
	}
}

// dropConnection closes the client connection without a response. Where
// the connection cannot be hijacked (HTTP/2, a ResponseRecorder), it
// aborts the handler, which net/http turns into a reset stream.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
