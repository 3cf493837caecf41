package server

import (
	"errors"
	"net/http"

	"opsbot/core"
)

// StatusOf is the HTTP status of a core error by its kind: 404 not found,
// 403 forbidden, 400 invalid, 409 a conflict or a lost race, else 500 (a
// failure of opsbot's own). The console and the acknowledge links answer
// with it; the REST API keeps its own table (422 for invalid, with codes).
func StatusOf(err error) int {
	switch {
	case errors.Is(err, core.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, core.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, core.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, core.ErrConflict), errors.Is(err, core.ErrAlreadyDecided):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
