package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// An apiError is a Stripe error response: an HTTP status and the body
// {"error": {...}}. Handlers return it instead of writing a response so that
// every error goes through the same encoding, logging and idempotency path.
type apiError struct {
	status  int
	typ     string // invalid_request_error, api_error, idempotency_error, card_error
	code    string
	message string
	param   string
	extra   map[string]any // e.g. decline_code, payment_intent
}

func (e *apiError) Error() string { return e.message }

// body renders the error the way Stripe does; doc_url is present whenever
// there is a code.
func (e *apiError) body() map[string]any {
	inner := map[string]any{"type": e.typ, "message": e.message}
	if e.code != "" {
		inner["code"] = e.code
		inner["doc_url"] = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(e.code, "_", "-")
	}
	if e.param != "" {
		inner["param"] = e.param
	}
	for k, v := range e.extra {
		inner[k] = v
	}
	return map[string]any{"error": inner}
}

func invalidRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, message: fmt.Sprintf(format, args...)}
}

func errMissingParam(param string) *apiError {
	e := invalidRequest(param, "Missing required param: %s.", param)
	e.code = "parameter_missing"
	return e
}

func errUnknownParam(param string) *apiError {
	e := invalidRequest(param, "Received unknown parameter: %s", param)
	e.code = "parameter_unknown"
	return e
}

// errNoSuch is Stripe's resource_missing error. Retrieving a missing object
// answers 404 with param "id"; naming a missing object in a parameter
// answers 400 with that parameter.
func errNoSuch(word, id, param string) *apiError {
	status := http.StatusBadRequest
	if param == "id" {
		status = http.StatusNotFound
	}
	return &apiError{status: status, typ: "invalid_request_error", code: "resource_missing", param: param,
		message: fmt.Sprintf("No such %s: '%s'", word, id)}
}

// errState reports an action that the object's current status forbids.
func errState(code, format string, args ...any) *apiError {
	e := invalidRequest("", format, args...)
	e.code = code
	return e
}

func errUnrecognizedURL(method, path string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
		message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", method, path)}
}

func errNoAPIKey() *apiError {
	return &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error",
		message: "You did not provide an API key. You need to provide your API key in the Authorization header, " +
			"using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, " +
			"or we can help at https://support.stripe.com/."}
}

func errIdempotencyMismatch(key string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "idempotency_error",
		message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key)}
}
