package bot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestDeferredReplyStoresNoSecret: a reply that carries a secret and has
// to wait in the outbox is stored redacted.
func TestDeferredReplyStoresNoSecret(t *testing.T) {
	t.Parallel()
	const token = "opsb_s3cr3t-token"
	m := Message{Title: "登录链接", Text: "https://opsbot.example/webchat/?token=" + token, Secret: token,
		Fields: []Field{{Name: "link", Value: token}}}
	n := core.Notice{Ref: "user:u1", To: core.Recipient{User: "u1"}, Body: replyPayload(core.PlatformWeCom, m)}
	sn, err := n.Encode()
	require.NoError(t, err)
	require.NotContains(t, string(sn.Payload), token)
	require.Contains(t, string(sn.Payload), Redaction)
	var back map[string]any
	require.NoError(t, json.Unmarshal(sn.Payload, &back))
}
