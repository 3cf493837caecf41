package smtp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"opsbot/core/paging"
)

// server is a real SMTP server (emersion/go-smtp) with STARTTLS on a
// self-signed certificate and AUTH PLAIN for one user, only after TLS.
type server struct {
	addr    string
	roots   *x509.CertPool
	mu      sync.Mutex
	msgs    [][]byte
	rcpts   []string
	tlsSeen []bool
}

type session struct {
	s      *server
	c      *gosmtp.Conn
	authed bool
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "oncall@example.gov.cn" || password != "app-password" {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if !s.authed {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	return nil
}
func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.s.mu.Lock()
	s.s.rcpts = append(s.s.rcpts, to)
	s.s.mu.Unlock()
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.s.mu.Lock()
	s.s.msgs = append(s.s.msgs, b)
	s.s.tlsSeen = append(s.s.tlsSeen, isTLS)
	s.s.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func startServer(t *testing.T) *server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	s := &server{roots: x509.NewCertPool()}
	s.roots.AddCert(cert)
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) { return &session{s: s, c: c}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.AllowInsecureAuth = false
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func provider(t *testing.T, s *server, password string) *Provider {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	p, err := New(Config{Host: host, Port: n, From: "值班机器人 <oncall@example.gov.cn>", Username: "oncall@example.gov.cn",
		Password: password, Auth: "plain", STARTTLS: "mandatory", TLSConfig: &tls.Config{RootCAs: s.roots, ServerName: host}})
	require.NoError(t, err)
	return p
}

func page() paging.Page {
	return paging.Page{Key: "inc-42-step-3-sunli", Kind: paging.KindIncident, Method: paging.MethodEmail, Address: "sunli@example.gov.cn",
		Name: "孙丽", Lang: "zh-CN", IncidentID: 42, Level: 2, Title: "数据库主库不可用", Subject: "【Ⅱ级事件 #42】数据库主库不可用",
		Text: "事件 #42：数据库主库不可用\n级别：Ⅱ级", HTML: "<p>事件 #42：<b>数据库主库不可用</b></p>",
		AckURL: "https://ops.example.gov.cn/ack/Zx9?sig=a&b=c", At: time.Date(2026, 3, 5, 3, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

// parts returns the message's headers and its text/plain and text/html parts, decoded.
func parts(t *testing.T, raw []byte) (mail.Header, string, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	got := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // multipart.Reader decodes quoted-printable
		require.NoError(t, err)
		got[ct] = string(b)
	}
	return m.Header, got["text/plain"], got["text/html"]
}

func TestSendThroughRealServer(t *testing.T) {
	s := startServer(t)
	p := provider(t, s, "app-password")
	rc, err := p.Send(context.Background(), page())
	require.NoError(t, err)
	require.Equal(t, "smtp", rc.Provider)
	require.Equal(t, "<opsbot.inc-42-step-3-sunli@example.gov.cn>", rc.MessageID)
	require.Len(t, s.msgs, 1)
	require.True(t, s.tlsSeen[0], "sent after STARTTLS")
	require.Equal(t, []string{"sunli@example.gov.cn"}, s.rcpts)

	h, text, htm := parts(t, s.msgs[0])
	require.Equal(t, "<opsbot.inc-42-step-3-sunli@example.gov.cn>", h.Get("Message-Id"))
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(h.Get("Subject"))
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
	h2, _, _ := parts(t, s.msgs[1])
	require.Equal(t, h.Get("Message-Id"), h2.Get("Message-Id"))
}

func TestRefusals(t *testing.T) {
	s := startServer(t)
	_, err := provider(t, s, "wrong").Send(context.Background(), page())
	require.Error(t, err, "wrong password")
	pg := page()
	pg.Address = "nobody@example.gov.cn"
	_, err = provider(t, s, "app-password").Send(context.Background(), pg)
	require.Error(t, err)
	require.True(t, paging.IsPermanent(err), "550 no such user is permanent: %v", err)
	require.Empty(t, s.msgs)

	// An untrusted certificate: STARTTLS mandatory refuses to go on in clear.
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	p, err := New(Config{Host: host, Port: n, From: "oncall@example.gov.cn", Username: "oncall@example.gov.cn", Password: "app-password"})
	require.NoError(t, err)
	_, err = p.Send(context.Background(), page())
	require.Error(t, err)
	require.Empty(t, s.msgs)
}

func TestBodiesWithoutRenderedText(t *testing.T) {
	pg := page()
	pg.Text, pg.HTML, pg.Subject, pg.Lang = "", "", "", "en"
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
