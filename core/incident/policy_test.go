package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/incident"
)

func TestParseSteps(t *testing.T) {
	t.Parallel()
	def := incident.DefaultPolicy()
	for level := 1; level <= 4; level++ {
		steps, err := incident.ParseSteps(incident.FormatSteps(def.Steps[level]))
		require.NoError(t, err)
		require.Equal(t, def.Steps[level], steps, "level %d round-trips", level)
	}
	for _, bad := range []string{"", "5m primary", "primary; 5m boss", "primary; 10m secondary; 5m unit_admin", "primary; 5m"} {
		_, err := incident.ParseSteps(bad)
		require.Error(t, err, bad)
	}
	p, err := incident.ParsePolicy([4]string{"primary", "primary; 1m secondary", "primary", "primary"},
		[4]time.Duration{time.Minute, time.Minute, time.Minute, time.Minute})
	require.NoError(t, err)
	require.Equal(t, time.Minute, p.Steps[2][1].After)
}
