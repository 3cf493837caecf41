package smtp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core/paging"
)

func TestBodiesWithoutRenderedText(t *testing.T) {
	pg := paging.Page{Kind: paging.KindIncident, Method: paging.MethodEmail, IncidentID: 42, Title: "数据库主库不可用",
		Lang: "en", AckURL: "https://ops.example.gov.cn/ack/Zx9?sig=a&b=c"}
	text, htm := bodies(pg)
	require.Equal(t, "[Incident #42] 数据库主库不可用", subject(pg))
	require.Contains(t, text, "Acknowledge this incident: "+pg.AckURL)
	require.Contains(t, htm, "<a href=")
	pg.Text = "see " + pg.AckURL
	text, _ = bodies(pg)
	require.Equal(t, 1, strings.Count(text, pg.AckURL), "the link is not added twice")
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{}, {Host: "h", From: "not an address"}, {Host: "h", From: "a@b.cn", STARTTLS: "never"},
		{Host: "h", From: "a@b.cn", Auth: "cram"}, {Host: "h", From: "a@b.cn", Auth: "login"}} {
		_, err := New(c)
		require.Error(t, err)
	}
	p, err := New(Config{Host: "h", From: "a@b.cn"})
	require.NoError(t, err)
	require.Equal(t, p.MessageID("x y/ü"), p.MessageID("x y/ü"))
	require.NotContains(t, p.MessageID("x y/ü"), " ")
}
