package bot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestSilenceUnreachableReply: a Silence button pressed with no
// Alertmanager answering (as in dev) says so, not "internal error".
func TestSilenceUnreachableReply(t *testing.T) {
	t.Parallel()
	err := core.Invalid("alertmanager_unreachable", "url", "http://127.0.0.1:9093")
	zh := testBot(LangZH).ErrorReply(err, nil)
	require.Equal(t, StatusError, zh.Status)
	require.Equal(t, "Alertmanager 未连接（alerts.alertmanager_url）：http://127.0.0.1:9093 无应答，暂时无法静默。", zh.Text)
	en := testBot(LangEN).ErrorReply(err, nil)
	require.Equal(t, "Alertmanager is not connected (alerts.alertmanager_url): http://127.0.0.1:9093 does not answer, so nothing can be silenced now.", en.Text)
}
