package stripeapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// Error is an error response from Stripe: any non-2xx status. For a JSON
// body the fields come from its "error" object; for anything else (a proxy's
// HTML page, say) only HTTPStatus and Message are set.
type Error struct {
	HTTPStatus  int
	Type        string // api_error, card_error, idempotency_error, invalid_request_error
	Code        string // e.g. resource_missing, rate_limit, lock_timeout
	DeclineCode string // for card errors
	Param       string // the parameter the error relates to, if any
	Message     string
	RequestID   string // the Request-Id response header, for Stripe support
}

// Error formats e as, for example,
//
//	stripe: invalid_request_error (resource_missing): No such customer: 'cus_x' [param id, request req_123, HTTP 404]
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("stripe: ")
	b.WriteString(e.authSummary()) // 401, 403 and 407 say what to fix
	if e.Type != "" {
		b.WriteString(e.Type)
		if e.Code != "" {
			b.WriteString(" (" + e.Code + ")")
		}
		b.WriteString(": ")
	} else if e.Code != "" {
		b.WriteString(e.Code + ": ")
	}
	b.WriteString(e.Message)
	b.WriteString(" [")
	if e.DeclineCode != "" {
		b.WriteString("decline_code " + e.DeclineCode + ", ")
	}
	if e.Param != "" {
		b.WriteString("param " + e.Param + ", ")
	}
	if e.RequestID != "" {
		b.WriteString("request " + e.RequestID + ", ")
	}
	b.WriteString("HTTP " + strconv.Itoa(e.HTTPStatus) + "]")
	return b.String()
}

// IsNotFound reports whether err is, or wraps, a Stripe 404 with code
// resource_missing: the object does not exist. A 404 without that code (an
// unrecognised URL, for instance) is a bug in the caller, not an empty result,
// and does not count.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.HTTPStatus == http.StatusNotFound && e.Code == "resource_missing"
}

// maxErrorSnippet bounds how much of a non-JSON error body goes into a
// message.
const maxErrorSnippet = 200

// newError decodes a non-2xx response. secret is removed from every field,
// because a server (or a misbehaving emulator) may echo the API key back.
func newError(status int, header http.Header, body []byte, secret string) *Error {
	e := &Error{HTTPStatus: status, RequestID: header.Get("Request-Id")}
	var env struct {
		Error *struct {
			Type        string `json:"type"`
			Code        string `json:"code"`
			DeclineCode string `json:"decline_code"`
			Param       string `json:"param"`
			Message     string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Type = env.Error.Type
		e.Code = env.Error.Code
		e.DeclineCode = env.Error.DeclineCode
		e.Param = env.Error.Param
		e.Message = env.Error.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "unexpected HTTP status"
		}
		if s := snippet(body, secret); s != "" && env.Error == nil {
			e.Message += ": " + s
		}
	}
	if secret != "" {
		for _, f := range []*string{&e.Type, &e.Code, &e.DeclineCode, &e.Param, &e.Message, &e.RequestID} {
			*f = strings.ReplaceAll(*f, secret, "[redacted]")
		}
	}
	return e
}

// snippet returns the start of body as one printable line. secret is
// redacted before truncation so that no prefix of it can survive the cut.
func snippet(body []byte, secret string) string {
	s := string(body)
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	if len(s) > maxErrorSnippet {
		s = s[:maxErrorSnippet] + "..."
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	}), " ")
}
