package bot

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMessageRedacted(t *testing.T) {
	t.Parallel()
	m := Message{Ref: "user:u", Title: "link", Text: "open https://x/#token=s3cr3t now", Secret: "s3cr3t",
		Fields:  []Field{{Name: "link", Value: "#token=s3cr3t"}},
		Buttons: []Button{{Action: "a", Value: "s3cr3t", Label: "l"}}}
	r := m.Redacted()
	require.Equal(t, "open https://x/#token="+Redaction+" now", r.Text)
	require.Equal(t, "#token="+Redaction, r.Fields[0].Value)
	require.Equal(t, Redaction, r.Buttons[0].Value)
	require.Empty(t, r.Secret)
	// The original keeps its secret for the one delivery.
	require.Contains(t, m.Text, "s3cr3t")
	require.Equal(t, "#token=s3cr3t", m.Fields[0].Value)
	plain := Message{Text: "no secret"}
	require.Equal(t, plain, plain.Redacted())
}
