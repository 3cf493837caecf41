package alerts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fixed struct{ t time.Time }

func (f fixed) Now() time.Time { return f.t }

func TestSilenceUntil(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 24, 23, 30, 0, 0, cst)
	s := NewSilencer(nil, nil, cst, fixed{now})
	for span, want := range map[string]time.Time{
		"1h":       now.Add(time.Hour),
		"4h":       now.Add(4 * time.Hour),
		"tomorrow": time.Date(2026, 11, 25, 9, 0, 0, 0, cst),
	} {
		got, err := s.Until(span)
		require.NoError(t, err, span)
		require.True(t, want.Equal(got), "%s: %s", span, got)
	}
	// After midnight "tomorrow morning" is this morning; at 09:00 sharp it is the next one.
	for at, want := range map[time.Time]time.Time{
		time.Date(2026, 11, 25, 1, 30, 0, 0, cst): time.Date(2026, 11, 25, 9, 0, 0, 0, cst),
		time.Date(2026, 11, 25, 9, 0, 0, 0, cst):  time.Date(2026, 11, 26, 9, 0, 0, 0, cst),
	} {
		got, err := NewSilencer(nil, nil, cst, fixed{at}).Until("tomorrow")
		require.NoError(t, err)
		require.True(t, want.Equal(got), "at %s: %s", at, got)
	}
	for _, bad := range []string{"", "0h", "100h", "forever"} {
		_, err := s.Until(bad)
		require.Error(t, err, bad)
	}
}
