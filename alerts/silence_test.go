package alerts

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
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

// fakeTargets lets anyone silence incident 7, whose group has one label.
type fakeTargets struct{ recorded bool }

func (f *fakeTargets) SilenceTarget(ctx context.Context, actor core.Actor, id int64) (alert.SilenceTarget, error) {
	return alert.SilenceTarget{Labels: map[string]string{"alertname": "DiskFull"}}, nil
}

func (f *fakeTargets) RecordSilence(ctx context.Context, actor core.Actor, id int64, silenceID string, matchers []alert.Matcher, until time.Time) error {
	f.recorded = true
	return nil
}

// TestSilenceUnreachable: with no Alertmanager answering at the configured
// URL (as in dev), Silence fails with the user-facing code
// alertmanager_unreachable, not an internal error, and records nothing.
func TestSilenceUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	cst := time.FixedZone("CST", 8*3600)
	targets := &fakeTargets{}
	s := NewSilencer(targets, NewClient(url, nil), cst, fixed{time.Date(2026, 11, 24, 10, 0, 0, 0, cst)})
	_, _, err = s.Silence(context.Background(), core.Actor{UserID: "sunli", Name: "孙丽"}, 7, "1h")
	var ce *core.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "alertmanager_unreachable", ce.Code)
	require.Equal(t, url, ce.Args["url"])
	require.False(t, targets.recorded)
}
