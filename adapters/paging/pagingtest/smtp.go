package pagingtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// SMTP is a real SMTP server (emersion/go-smtp) on 127.0.0.1 offering
// STARTTLS with a self-signed certificate and AUTH PLAIN for one user,
// only after STARTTLS. Mail to nobody@… is refused with 550.
type SMTP struct {
	Host, User, Password string
	Port                 int
	CAFile               string         // the certificate, PEM (the smtp provider's ca_file)
	Roots                *x509.CertPool // the certificate, as a pool

	mu   sync.Mutex
	msgs []Mail
}

// Mail is a message the server accepted.
type Mail struct {
	From, To string
	TLS      bool // it came after STARTTLS
	Raw      []byte
}

// NewSMTP starts the server for user/password.
func NewSMTP(t testing.TB, user, password string) *SMTP {
	return newSMTP(t, user, password, true)
}

// NewSMTPWithoutTLS starts a server that offers neither STARTTLS nor AUTH
// and takes mail from anyone (an internal relay that cannot encrypt).
func NewSMTPWithoutTLS(t testing.TB) *SMTP {
	return newSMTP(t, "", "", false)
}

func newSMTP(t testing.TB, user, password string, secure bool) *SMTP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	s := &SMTP{Host: "127.0.0.1", User: user, Password: password, Roots: x509.NewCertPool()}
	s.Roots.AddCert(cert)
	s.CAFile = filepath.Join(t.TempDir(), "smtp-ca.pem")
	must(t, os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))

	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) { return &smtpSession{s: s, c: c}, nil }))
	srv.Domain = "localhost"
	if secure {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	}
	srv.AllowInsecureAuth = false
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	s.Port, _ = strconv.Atoi(port)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Messages returns the accepted messages.
func (s *SMTP) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.msgs...)
}

// TLSConfig is a client TLS configuration that trusts the server.
func (s *SMTP) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.Roots, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

type smtpSession struct {
	s        *SMTP
	c        *gosmtp.Conn
	authed   bool
	from, to string
}

func (x *smtpSession) AuthMechanisms() []string {
	if x.s.User == "" {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (x *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != x.s.User || password != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
}

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client): "Username:", then "Password:".
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.username, l.step = string(response), 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

func (x *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if !x.authed && x.s.User != "" {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	x.from = from
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	x.to = to
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.c.TLSConnectionState()
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Mail{From: x.from, To: x.to, TLS: isTLS, Raw: b})
	x.s.mu.Unlock()
	return nil
}

func (x *smtpSession) Reset()        { x.from, x.to = "", "" }
func (x *smtpSession) Logout() error { return nil }

// Parts parses a multipart/alternative message into its headers and its
// text/plain and text/html parts (transfer encoding decoded).
func (m Mail) Parts() (h mail.Header, text, html string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, "", "", err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return nil, "", "", errors.New("pagingtest: not multipart/alternative: " + msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", "", err
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, "", "", err
		}
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return msg.Header, text, html, nil
}
