package core

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text limits, in characters. The checks and the arguments of their
// errors (and so the messages users read) take them from here.
const (
	// MaxName is the longest name of a unit, a user or an app.
	MaxName = 100
	// MaxTitle is the longest title of an incident, a ticket, a problem
	// or a request.
	MaxTitle = 200
	// MaxNote is the longest note on a report.
	MaxNote = 1000
)

// Reasons TextProblem gives.
const (
	// TextNUL means the text holds a NUL character (U+0000).
	TextNUL = "nul"
	// TextUTF8 means the text is not valid UTF-8.
	TextUTF8 = "utf8"
)

// TextProblem says why Postgres cannot store s as text: TextNUL when it
// holds a NUL character, TextUTF8 when it is not valid UTF-8, "" when it
// can be stored.
func TextProblem(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return TextNUL
	case !utf8.ValidString(s):
		return TextUTF8
	}
	return ""
}

// CleanText returns s without NUL characters and with each invalid UTF-8
// sequence replaced by U+FFFD, which Postgres can store. It returns s
// itself when there is nothing to clean.
func CleanText(s string) string {
	if TextProblem(s) == "" {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// CheckText returns an ErrInvalid "text_unstorable" error naming field
// and the reason when Postgres cannot store s, for entrances that refuse
// rather than clean.
func CheckText(field, s string) error {
	if why := TextProblem(s); why != "" {
		return Invalid("text_unstorable", "field", field, "reason", why)
	}
	return nil
}

// CheckName returns an ErrInvalid "name" error when s, trimmed, is empty
// or longer than max characters. The error carries max, so the message
// says the limit actually enforced.
func CheckName(field, s string, max int) error {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max {
		return LimitError("name", field, s, max)
	}
	return nil
}

// LimitError returns an ErrInvalid error of code for a value of field
// checked against the limit max; the message for code shows {max}, so it
// cannot drift from the check.
func LimitError(code, field, value string, max int) *Error {
	return Invalid(code, "field", field, "value", value, "max", strconv.Itoa(max))
}
