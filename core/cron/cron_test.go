package cron_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/cron"
)

var sh = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, from, want string }{
		{"0 9 * * 1-5", "2026-11-24 08:00", "2026-11-24 09:00"},
		{"0 9 * * 1-5", "2026-11-24 09:00", "2026-11-25 09:00"},
		{"0 9 * * 1-5", "2026-11-27 10:00", "2026-11-30 09:00"}, // Friday → Monday
		{"30 8,14 * * *", "2026-11-24 09:00", "2026-11-24 14:30"},
		{"*/15 * * * *", "2026-11-24 09:01", "2026-11-24 09:15"},
		{"0 10 1 1,4,7,10 *", "2026-11-24 09:00", "2027-01-01 10:00"}, // quarterly
		{"@monthly", "2026-11-24 09:00", "2026-12-01 00:00"},
		{"0 0 * * 7", "2026-11-24 09:00", "2026-11-29 00:00"}, // 7 is Sunday
		{"0 0 31 2 *", "2026-11-24 09:00", ""},                // never
	}
	for _, tt := range tests {
		s, err := cron.Parse(tt.spec)
		require.NoError(t, err, tt.spec)
		got := s.Next(at(tt.from))
		if tt.want == "" {
			require.True(t, got.IsZero(), tt.spec)
			continue
		}
		require.Equal(t, at(tt.want), got, tt.spec)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"*/0 * * * *", "a * * * *", "5-1 * * * *", "@yearly"} {
		_, err := cron.Parse(bad)
		require.Error(t, err, bad)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("0 9 * * 1-5")
	f.Add("*/5 1-3,7 */2 1 0,7")
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := cron.Parse(spec)
		if err == nil {
			s.Next(at("2026-11-24 09:00"))
		}
	})
}
