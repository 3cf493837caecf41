package smtp_test

import (
	"context"
	"crypto/tls"
	"mime"
	"net/mail"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/paging/pagingtest"
	"opsbot/adapters/paging/smtp"
	"opsbot/core/paging"
)

func provider(t *testing.T, s *pagingtest.SMTP, password string, tc *tls.Config) *smtp.Provider {
	t.Helper()
	p, err := smtp.New(smtp.Config{Host: s.Host, Port: s.Port, From: "值班机器人 <oncall@example.gov.cn>", Username: s.User,
		Password: password, Auth: "plain", STARTTLS: "mandatory", TLSConfig: tc})
	require.NoError(t, err)
	return p
}

func page() paging.Page {
	return paging.Page{Key: "inc-42-step-3-sunli", Kind: paging.KindIncident, Method: paging.MethodEmail, Address: "sunli@example.gov.cn",
		Name: "孙丽", Lang: "zh-CN", IncidentID: 42, Level: 2, Title: "数据库主库不可用", Subject: "【Ⅱ级事件 #42】数据库主库不可用",
		Text: "事件 #42：数据库主库不可用\n级别：Ⅱ级", HTML: "<p>事件 #42：<b>数据库主库不可用</b></p>",
		AckURL: "https://ops.example.gov.cn/ack/Zx9?sig=a&b=c", At: time.Date(2026, 3, 5, 3, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

func TestSendThroughRealServer(t *testing.T) {
	s := pagingtest.NewSMTP(t, "oncall@example.gov.cn", "app-password")
	p := provider(t, s, "app-password", s.TLSConfig())
	rc, err := p.Send(context.Background(), page())
	require.NoError(t, err)
	require.Equal(t, "smtp", rc.Provider)
	require.Equal(t, "<opsbot.inc-42-step-3-sunli@example.gov.cn>", rc.MessageID)
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS, "sent after STARTTLS")
	require.Equal(t, "sunli@example.gov.cn", msgs[0].To)
	require.Equal(t, "oncall@example.gov.cn", msgs[0].From)

	h, text, htm, err := msgs[0].Parts()
	require.NoError(t, err)
	require.Equal(t, "<opsbot.inc-42-step-3-sunli@example.gov.cn>", h.Get("Message-Id"))
	subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "【Ⅱ级事件 #42】数据库主库不可用", subj)
	from, err := mail.ParseAddress(h.Get("From"))
	require.NoError(t, err)
	require.Equal(t, mail.Address{Name: "值班机器人", Address: "oncall@example.gov.cn"}, *from)
	to, err := mail.ParseAddress(h.Get("To"))
	require.NoError(t, err)
	require.Equal(t, "孙丽", to.Name)
	date, err := h.Date()
	require.NoError(t, err)
	require.True(t, date.Equal(page().At))

	require.Contains(t, text, "数据库主库不可用")
	require.Contains(t, text, "确认（认领）此事件：https://ops.example.gov.cn/ack/Zx9?sig=a&b=c")
	require.Contains(t, htm, "<b>数据库主库不可用</b>")
	require.Contains(t, htm, `<a href="https://ops.example.gov.cn/ack/Zx9?sig=a&amp;b=c">`)

	// A retry of the same page is the same message.
	_, err = p.Send(context.Background(), page())
	require.NoError(t, err)
	h2, _, _, err := s.Messages()[1].Parts()
	require.NoError(t, err)
	require.Equal(t, h.Get("Message-Id"), h2.Get("Message-Id"))
}

func TestRefusals(t *testing.T) {
	s := pagingtest.NewSMTP(t, "oncall@example.gov.cn", "app-password")
	_, err := provider(t, s, "wrong", s.TLSConfig()).Send(context.Background(), page())
	require.Error(t, err, "wrong password")
	pg := page()
	pg.Address = "nobody@example.gov.cn"
	_, err = provider(t, s, "app-password", s.TLSConfig()).Send(context.Background(), pg)
	require.Error(t, err)
	require.True(t, paging.IsPermanent(err), "550 no such user is permanent: %v", err)
	// An untrusted certificate: STARTTLS is mandatory, so nothing goes in clear.
	_, err = provider(t, s, "app-password", nil).Send(context.Background(), page())
	require.Error(t, err)
	require.Empty(t, s.Messages())
}

func TestAuthLogin(t *testing.T) {
	s := pagingtest.NewSMTP(t, "oncall@example.gov.cn", "app-password")
	p, err := smtp.New(smtp.Config{Host: s.Host, Port: s.Port, From: "oncall@example.gov.cn", Username: s.User,
		Password: "app-password", Auth: "login", TLSConfig: s.TLSConfig()})
	require.NoError(t, err)
	_, err = p.Send(context.Background(), page())
	require.NoError(t, err)
	require.Len(t, s.Messages(), 1)
}

func TestSTARTTLSPolicy(t *testing.T) {
	s := pagingtest.NewSMTPWithoutTLS(t)
	mk := func(policy string) *smtp.Provider {
		p, err := smtp.New(smtp.Config{Host: s.Host, Port: s.Port, From: "oncall@example.gov.cn", Auth: "none", STARTTLS: policy})
		require.NoError(t, err)
		return p
	}
	_, err := mk("mandatory").Send(context.Background(), page())
	require.Error(t, err, "mandatory: a relay without STARTTLS is refused")
	require.Empty(t, s.Messages())
	_, err = mk("opportunistic").Send(context.Background(), page())
	require.NoError(t, err)
	require.Len(t, s.Messages(), 1)
	require.False(t, s.Messages()[0].TLS)
}
