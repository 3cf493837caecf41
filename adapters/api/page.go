package api

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Page is one page of a list: its items and, unless it is the last page,
// the cursor of the next (?cursor=).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// EncodeCursor makes an opaque cursor of a position (a key, an offset).
func EncodeCursor(pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + pos))
}

// DecodeCursor reads a cursor made by EncodeCursor ("" for ""); another
// string is a bad parameter (400).
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	pos, ok := strings.CutPrefix(string(b), "v1:")
	if err != nil || !ok {
		return "", badParam("cursor", "next_cursor")
	}
	return pos, nil
}

// CursorInt decodes a cursor holding a number (0 for the first page).
func CursorInt(c *Call) (int64, error) {
	pos, err := DecodeCursor(c.Cursor())
	if err != nil || pos == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || n < 0 {
		return 0, badParam("cursor", "next_cursor")
	}
	return n, nil
}

// PageOf pages a list read whole (already in its order): the cursor is
// an offset into it.
func PageOf[T any](c *Call, all []T) (Page[T], error) {
	off, err := CursorInt(c)
	if err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Items: make([]T, 0)}
	if off >= int64(len(all)) {
		return p, nil
	}
	end := min(off+int64(c.Limit()), int64(len(all)))
	p.Items = append(p.Items, all[off:end]...)
	if end < int64(len(all)) {
		p.NextCursor = EncodeCursor(strconv.FormatInt(end, 10))
	}
	return p, nil
}

// Convert maps f over a list of core values, giving wire values.
func Convert[S, T any](in []S, f func(S) T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// utc is t in UTC: every time on the wire is RFC 3339 in UTC, whichever
// zone the store or the clock gave it in.
func utc(t time.Time) time.Time { return t.UTC() }

// utcp is utc for an optional time.
func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
