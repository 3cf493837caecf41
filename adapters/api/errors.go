package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strconv"

	"opsbot/core"
	"opsbot/core/access"
)

// ErrorBody is every error response: {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: code is the core error's code (or
// its kind: not_found, forbidden, invalid, conflict, already_decided,
// internal), message the text the chat shows for the same error.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusError is an error of the HTTP layer (bad JSON, bad parameter,
// body too large, unauthenticated) with its status; err carries the code
// and the catalog text.
type statusError struct {
	status int
	err    *core.Error
}

func (e *statusError) Error() string { return e.err.Error() }

func (e *statusError) Unwrap() error { return e.err }

// badParam refuses a parameter's syntax (400).
func badParam(name, want string) error {
	return &statusError{status: http.StatusBadRequest, err: core.Invalid("api_bad_param", "name", name, "want", want)}
}

// kinds maps each core error kind to its HTTP status and fallback code.
var kinds = []struct {
	kind   error
	status int
	code   string
}{
	{core.ErrNotFound, http.StatusNotFound, "not_found"},
	{core.ErrForbidden, http.StatusForbidden, "forbidden"},
	{core.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
	{core.ErrConflict, http.StatusConflict, "conflict"},
	{core.ErrAlreadyDecided, http.StatusConflict, "already_decided"},
}

// fail writes err as the error response: its status, its code, and the
// chat's text for it. Unexpected errors are 500, logged with a reference
// the message names.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, "internal"
	explained := err
	var se *statusError
	var rl *access.RateLimited
	var ce *core.Error
	switch {
	case errors.As(err, &se):
		status, code, explained = se.status, se.err.Code, se.err
	case errors.Is(err, access.ErrUnauthenticated):
		status, code, explained = http.StatusUnauthorized, "unauthenticated", core.Forbidden("api_unauthenticated")
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		status, code, explained = http.StatusTooManyRequests, "rate_limited", core.Conflict("api_rate_limited", "seconds", strconv.Itoa(secs))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	default:
		for _, k := range kinds {
			if errors.Is(err, k.kind) {
				status, code = k.status, k.code
				break
			}
		}
		if errors.As(err, &ce) && status != http.StatusInternalServerError {
			code = ce.Code
		}
	}
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: a.explain(r, status, explained)}})
}

// explain is the chat's text for err; for an internal error, that text
// names the reference the error is logged under.
func (a *API) explain(r *http.Request, status int, err error) string {
	if a.cfg.Explain != nil {
		return a.cfg.Explain(err) // bot.ErrorReply logs an internal error with its reference
	}
	if status == http.StatusInternalServerError {
		var b [4]byte
		_, _ = rand.Read(b[:])
		ref := hex.EncodeToString(b[:])
		a.log.Error("api call failed", "method", r.Method, "path", r.URL.Path, "err", err, "ref", ref)
		return "internal error (ref " + ref + ")"
	}
	return err.Error()
}
