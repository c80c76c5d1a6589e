package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// handlerTransport is an http.RoundTripper that answers requests by calling
// an http.Handler in the same process.
//
// The demo mode uses it to put the emulator behind the Stripe client
// without a network listener: no port to pick or collide with, nothing
// other local processes can reach, and no goroutines beyond the caller's.
// The client still builds and parses real HTTP requests and responses, so
// the demo exercises the same code as a real key does.
type handlerTransport struct {
	h http.Handler
}

// RoundTrip implements http.RoundTripper. The handler runs synchronously,
// under the request's context; its response is buffered whole.
func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}

	// What a server would see: RequestURI set, the body always non-nil.
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.Header = req.Header.Clone()
	if req.ContentLength > 0 {
		in.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}

	rec := &recorder{header: make(http.Header)}
	defer func() {
		// The handler's way to drop the connection (see net/http).
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			resp, err = nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, errConnectionDropped)
		}
	}()
	t.h.ServeHTTP(rec, in)

	rec.WriteHeader(http.StatusOK) // no-op if the handler wrote one
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.sent,
		Body:          io.NopCloser(&rec.body),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// errConnectionDropped reports a handler that aborted instead of answering,
// as a dropped connection would look to a client.
var errConnectionDropped = errors.New("connection dropped by the handler")

// recorder is the http.ResponseWriter handlerTransport gives the handler.
type recorder struct {
	header http.Header // what Header returns
	sent   http.Header // header as of WriteHeader; nil before
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.sent != nil {
		return
	}
	// Like a server, ignore header changes after the header is "sent".
	r.sent = r.header.Clone()
	r.status = status
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
