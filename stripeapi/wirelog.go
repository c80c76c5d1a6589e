package stripeapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LevelTrace is the level of the wire log, below Debug: with a
// Config.Logger enabled for it, the client logs every HTTP request and
// response as it goes over the wire (each attempt, each proxy challenge and
// CONNECT), with headers and bodies. Secrets are redacted: the
// Authorization, Proxy-Authorization and cookie headers, the API key and
// proxy password wherever they occur, and client_secret and secret fields
// of bodies and query strings.
const LevelTrace = slog.LevelDebug - 4

// redacted replaces a secret in logs.
const redacted = "[redacted]"

// wireLog is the http.RoundTripper that writes the wire log.
type wireLog struct {
	next    http.RoundTripper
	log     *slog.Logger
	secrets []string // removed from every logged string
}

// RoundTrip implements http.RoundTripper. When LevelTrace is enabled it
// logs the request, then reads the whole response body to log it, and
// returns the response with the body replayed.
func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !w.log.Enabled(ctx, LevelTrace) {
		return w.next.RoundTrip(req)
	}

	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody != nil {
			if rc, err := req.GetBody(); err == nil {
				body, _ = io.ReadAll(rc)
				rc.Close()
			}
		} else {
			var err error
			body, err = io.ReadAll(req.Body)
			req.Body.Close()
			req = req.Clone(ctx) // the caller's request stays untouched
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		}
	}
	header := req.Header.Clone()
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	header.Set("Host", host)
	if req.ContentLength > 0 {
		header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	w.log.LogAttrs(ctx, LevelTrace, "stripe http request",
		slog.String("method", req.Method),
		slog.String("url", w.clean(redactQuery(req.URL.Redacted()))),
		headerAttr(header, w.secrets),
		slog.String("body", w.clean(redactBody(string(body)))))

	start := time.Now()
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		w.log.LogAttrs(ctx, LevelTrace, "stripe http failure",
			slog.String("method", req.Method),
			slog.String("error", w.clean(err.Error())),
			slog.Duration("duration", time.Since(start)))
		return nil, err
	}
	respBody, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errReader{readErr}))
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", resp.StatusCode),
		slog.Duration("duration", time.Since(start)),
		headerAttr(resp.Header, w.secrets),
		slog.String("body", w.clean(redactBody(string(respBody)))),
	}
	if readErr != nil {
		attrs = append(attrs, slog.String("error", w.clean(readErr.Error())))
	}
	w.log.LogAttrs(ctx, LevelTrace, "stripe http response", attrs...)
	return resp, nil
}

// CloseIdleConnections passes the call on to the wrapped transport.
func (w *wireLog) CloseIdleConnections() { closeIdle(w.next) }

// clean removes the secrets from s.
func (w *wireLog) clean(s string) string { return redactSecrets(s, w.secrets) }

// redactSecrets replaces every non-empty secret in s.
func redactSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// secretHeaders are logged as [redacted] whatever their value.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// headerAttr is h as a group attribute "header", one attribute per name
// in sorted order, with secrets redacted.
func headerAttr(h http.Header, secrets []string) slog.Attr {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	attrs := make([]any, 0, len(names))
	for _, name := range names {
		v := strings.Join(h[name], ", ")
		if slices.Contains(secretHeaders, http.CanonicalHeaderKey(name)) {
			v = redacted
		}
		attrs = append(attrs, slog.String(name, redactSecrets(v, secrets)))
	}
	return slog.Group("header", attrs...)
}

var (
	// jsonSecretRE matches a JSON member "client_secret" or "secret" with
	// a string value.
	jsonSecretRE = regexp.MustCompile(`("(?:client_secret|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// formSecretRE matches a form or query parameter whose name ends in
	// client_secret or secret, bracketed (x[client_secret]) or not.
	formSecretRE = regexp.MustCompile(`((?:^|[&?])[^=&?]*(?:client_secret|secret)(?:\]|%5D|%5d)?=)[^&]*`)
)

// redactBody redacts the secrets a Stripe request or response body may
// carry: client_secret (payment and setup intents, checkout sessions) and
// secret (webhook endpoints, ephemeral keys), in JSON or form encoding.
func redactBody(s string) string {
	s = jsonSecretRE.ReplaceAllString(s, `${1}"`+redacted+`"`)
	return redactQuery(s)
}

// redactQuery redacts client_secret and secret parameters of a query
// string or form body (or of a URL).
func redactQuery(s string) string {
	return formSecretRE.ReplaceAllString(s, `${1}`+redacted)
}

// errReader returns err after a replayed body, or io.EOF if err is nil.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}
