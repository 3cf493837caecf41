package configs

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestPrometheusExamples checks the example rules and Alertmanager config
// parse and carry the labels opsbot reads.
func TestPrometheusExamples(t *testing.T) {
	t.Parallel()
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	b, err := os.ReadFile("prometheus/rules.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &rules))
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Expr, r.Alert)
			require.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			seen[r.Alert] = true
		}
	}
	for _, want := range []string{"HostHighCPU", "HostHighMemory", "HostDiskAlmostFull", "HostNetworkErrors", "PostgresDown", "AppHTTPNon200", "AppSlowResponse"} {
		require.True(t, seen[want], want)
	}
	var am map[string]any
	b, err = os.ReadFile("prometheus/alertmanager.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &am))
	require.Contains(t, string(b), "/alerts/alertmanager")
}
