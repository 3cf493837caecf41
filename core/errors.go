package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel error kinds. Callers check them with errors.Is.
var (
	// ErrNotFound means the entity named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the actor may not do what was asked.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid means the input is malformed or breaks a rule.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the request clashes with the current state
	// (a duplicate code, a unit that still has users …).
	ErrConflict = errors.New("conflict")
	// ErrAlreadyDecided means a guarded transition lost the race: someone
	// else already moved the entity on.
	ErrAlreadyDecided = errors.New("already decided")
	// ErrRetry means the store gave a transaction up to break a deadlock
	// or a serialization conflict with a concurrent one: running it again
	// may succeed.
	ErrRetry = errors.New("retry")
)

// Error is a domain error with a message code the bot translates, the
// arguments of that message and the kind it unwraps to.
type Error struct {
	Kind error
	Code string
	Args map[string]string
	// Cause, when set, is what went wrong underneath (a provider's answer,
	// a network error): logged for the operators, never shown to the user
	// and not unwrapped (errors.Is sees the kind only).
	Cause error
}

// Because sets the error's cause and returns it.
func (e *Error) Because(cause error) *Error {
	e.Cause = cause
	return e
}

// Error renders the code and its arguments in a stable English-ish form,
// for logs; users see the bot's translation.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	b.WriteString(": ")
	b.WriteString(e.Code)
	keys := make([]string, 0, len(e.Args))
	for k := range e.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, e.Args[k])
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, " cause=%q", e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the error kind, so errors.Is(err, ErrForbidden) works.
func (e *Error) Unwrap() error { return e.Kind }

// newErr builds an *Error from alternating key, value arguments.
func newErr(kind error, code string, kv ...string) *Error {
	args := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		args[kv[i]] = kv[i+1]
	}
	return &Error{Kind: kind, Code: code, Args: args}
}

// NotFound reports a missing entity; kv are alternating key, value pairs.
func NotFound(code string, kv ...string) *Error { return newErr(ErrNotFound, code, kv...) }

// Forbidden reports a refused action and why.
func Forbidden(code string, kv ...string) *Error { return newErr(ErrForbidden, code, kv...) }

// Invalid reports bad input or a broken rule.
func Invalid(code string, kv ...string) *Error { return newErr(ErrInvalid, code, kv...) }

// Conflict reports a clash with the current state.
func Conflict(code string, kv ...string) *Error { return newErr(ErrConflict, code, kv...) }

// AlreadyDecided reports a lost race on a guarded transition.
func AlreadyDecided(code string, kv ...string) *Error { return newErr(ErrAlreadyDecided, code, kv...) }
