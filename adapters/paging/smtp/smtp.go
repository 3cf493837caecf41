// Package smtp pages by e-mail through an SMTP relay (github.com/wneessen/go-mail):
// STARTTLS by a configurable policy, AUTH PLAIN or LOGIN, a text and an
// HTML part that both carry the one-time acknowledge link, and a
// Message-ID derived from the page's key so a retried page is the same
// message.
package smtp

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"opsbot/core/paging"
)

// Config configures the provider.
type Config struct {
	Host      string
	Port      int    // default 587
	From      string // "值班机器人 <oncall@example.gov.cn>" or a bare address
	Username  string
	Password  string
	Auth      string // plain (default when Username is set), login, or none
	STARTTLS  string // mandatory (default) or opportunistic
	TLSConfig *tls.Config
	Timeout   time.Duration // default 15 s
	Now       func() time.Time
}

// Provider sends e-mail pages.
type Provider struct {
	cfg    Config
	from   *mail.Address
	domain string
	opts   []gomail.Option
}

// New checks cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, errors.New("smtp: host and from are required (缺少邮件服务器 host 或发件人 from)")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w (发件人地址无效)", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	switch cfg.STARTTLS {
	case "", "mandatory":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		return nil, fmt.Errorf("smtp: starttls %q: want mandatory or opportunistic (starttls 只能是 mandatory 或 opportunistic)", cfg.STARTTLS)
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	}
	auth := cfg.Auth
	if auth == "" && cfg.Username != "" {
		auth = "plain"
	}
	switch auth {
	case "", "none":
	case "plain", "login":
		if cfg.Username == "" || cfg.Password == "" {
			return nil, errors.New("smtp: auth needs username and password (认证需要 username 和 password)")
		}
		t := gomail.SMTPAuthPlain
		if auth == "login" {
			t = gomail.SMTPAuthLogin
		}
		opts = append(opts, gomail.WithSMTPAuth(t), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	default:
		return nil, fmt.Errorf("smtp: auth %q: want plain, login or none (auth 只能是 plain、login 或 none)", cfg.Auth)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Provider{cfg: cfg, from: from, domain: domain, opts: opts}, nil
}

// Name is "smtp".
func (p *Provider) Name() string { return "smtp" }

// Methods is email.
func (p *Provider) Methods() []paging.Method { return []paging.Method{paging.MethodEmail} }

// MessageID is the Message-ID (without angle brackets) of the page with
// this key: the same key always gives the same id.
func (p *Provider) MessageID(key string) string {
	safe := true
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			safe = false
			break
		}
	}
	if !safe || key == "" || len(key) > 64 {
		sum := sha256.Sum256([]byte(key))
		key = hex.EncodeToString(sum[:16])
	}
	return "opsbot." + key + "@" + p.domain
}

// Send mails pg. A refused recipient or a permanent (5xx) SMTP answer is
// permanent; a connection failure or a temporary (4xx) answer is retried.
func (p *Provider) Send(ctx context.Context, pg paging.Page) (paging.Receipt, error) {
	if pg.Method != paging.MethodEmail {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: method %s not supported", pg.Method))
	}
	to, err := mail.ParseAddress(pg.Address)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: address %q: %w", pg.Address, err))
	}
	m := gomail.NewMsg()
	if err := m.FromFormat(p.from.Name, p.from.Address); err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: %w", err))
	}
	addTo := func() error { return m.To(to.Address) }
	if pg.Name != "" {
		addTo = func() error { return m.AddToFormat(pg.Name, to.Address) }
	}
	if err := addTo(); err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: %w", err))
	}
	id := p.MessageID(pg.Key)
	m.SetMessageIDWithValue(id)
	at := pg.At
	if at.IsZero() {
		at = p.cfg.Now()
	}
	m.SetDateWithValue(at)
	m.Subject(subject(pg))
	text, htm := bodies(pg)
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, htm)

	c, err := gomail.NewClient(p.cfg.Host, p.opts...)
	if err != nil {
		return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return paging.Receipt{}, paging.Permanent(fmt.Errorf("smtp: %w", err))
		}
		return paging.Receipt{}, fmt.Errorf("smtp: %w", err)
	}
	return paging.Receipt{Provider: "smtp", MessageID: "<" + id + ">", Status: "sent"}, nil
}

// subject is the page's rendered subject, or a plain one.
func subject(pg paging.Page) string {
	if pg.Subject != "" {
		return pg.Subject
	}
	if pg.Kind == paging.KindVerify {
		return pick(pg.Lang, "验证码 ", "Verification code ") + pg.Code
	}
	return pick(pg.Lang, "【事件 #", "[Incident #") + strconv.FormatInt(pg.IncidentID, 10) + pick(pg.Lang, "】", "] ") + pg.Title
}

// bodies returns the text and HTML parts, each with the acknowledge link
// (added when the rendered text does not already carry it).
func bodies(pg paging.Page) (text, htm string) {
	text, htm = pg.Text, pg.HTML
	if text == "" {
		text = subject(pg)
	}
	if htm == "" {
		htm = "<p>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>\n") + "</p>"
	}
	if pg.AckURL == "" {
		return text, htm
	}
	label := pick(pg.Lang, "确认（认领）此事件：", "Acknowledge this incident: ")
	if !strings.Contains(text, pg.AckURL) {
		text += "\n\n" + label + pg.AckURL + "\n"
	}
	if esc := html.EscapeString(pg.AckURL); !strings.Contains(htm, esc) && !strings.Contains(htm, pg.AckURL) {
		htm += "\n<p>" + html.EscapeString(label) + `<a href="` + esc + `">` + esc + "</a></p>"
	}
	return text, htm
}

// pick is zh unless lang is English.
func pick(lang, zh, en string) string {
	if strings.HasPrefix(lang, "en") {
		return en
	}
	return zh
}
