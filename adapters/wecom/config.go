package wecom

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultAPIBase is WeCom's public API host.
const DefaultAPIBase = "https://qyapi.weixin.qq.com"

// WeCom's documented limits (message/send, webhook/send).
const (
	DefaultPerMemberMinute = 30   // messages one app may send one member per minute
	DefaultPerMemberHour   = 1000 // … per hour
	DefaultRobotPerMinute  = 20   // messages one group robot may post per minute
)

// Config configures the WeCom adapter. CorpID, AgentID, Secret, Token and
// EncodingAESKey come from the WeCom admin console (see README.md).
type Config struct {
	// CorpID is the enterprise id (企业ID), also the receive id of callbacks.
	CorpID string
	// AgentID is the self-built app's AgentId.
	AgentID int64
	// Secret is the app's Secret (secret).
	Secret string
	// ContactsSecret is the 通讯录同步 Secret used by Contacts when set;
	// apps created after mid-2022 get department and user names only with
	// it. Empty means Contacts uses Secret.
	ContactsSecret string
	// Token is the callback Token used in msg_signature.
	Token string
	// EncodingAESKey is the callback EncodingAESKey (43 characters).
	EncodingAESKey string
	// APIBase is the API host (default https://qyapi.weixin.qq.com); set it
	// to reach WeCom through a forward proxy. A non-default base is
	// installed process-wide with util.SetURIModifier for the library's own
	// token calls.
	APIBase string

	// PerMemberMinute and PerMemberHour bound messages to one member
	// (defaults 30 and 1000); RobotPerMinute bounds one group robot (20).
	// Excess messages are held in Postgres and released by Flush.
	PerMemberMinute int
	PerMemberHour   int
	RobotPerMinute  int

	// KeyPrefix prefixes every Redis key the adapter writes (default
	// "opsbot:wecom:").
	KeyPrefix string
	// DedupeTTL is how long a callback's id is remembered (default 1h).
	DedupeTTL time.Duration
	// CallbackWindow is how far a callback's timestamp may be from now,
	// either way, for it to be handled (default 5m).
	CallbackWindow time.Duration
	// CallTimeout bounds one WeCom API call (default 10s).
	CallTimeout time.Duration
	// HandleTimeout bounds the asynchronous handling of one callback,
	// replies included (default 2m).
	HandleTimeout time.Duration
	// MaxBodyBytes bounds a callback body (default 1 MiB).
	MaxBodyBytes int64
	// DoneLabel is the grey label that replaces a card's buttons once it
	// is decided (default "已处理").
	DoneLabel string
	// ButtonHint is shown under cards posted to group chats and robots,
	// where buttons cannot be tapped (default "请在企业微信应用消息中操作：").
	ButtonHint string
	// Now is the clock of the rate limiter and card expiry (default
	// time.Now); tests move it instead of sleeping.
	Now func() time.Time
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.APIBase == "" {
		c.APIBase = DefaultAPIBase
	}
	c.APIBase = strings.TrimRight(c.APIBase, "/")
	if c.PerMemberMinute <= 0 {
		c.PerMemberMinute = DefaultPerMemberMinute
	}
	if c.PerMemberHour <= 0 {
		c.PerMemberHour = DefaultPerMemberHour
	}
	if c.RobotPerMinute <= 0 {
		c.RobotPerMinute = DefaultRobotPerMinute
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "opsbot:wecom:"
	}
	if c.DedupeTTL <= 0 {
		c.DedupeTTL = time.Hour
	}
	if c.CallbackWindow <= 0 {
		c.CallbackWindow = 5 * time.Minute
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.HandleTimeout <= 0 {
		c.HandleTimeout = 2 * time.Minute
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.DoneLabel == "" {
		c.DoneLabel = "已处理"
	}
	if c.ButtonHint == "" {
		c.ButtonHint = "请在企业微信应用消息中操作："
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every missing or malformed field.
func (c Config) Validate() error {
	var errs []error
	if c.CorpID == "" {
		errs = append(errs, errors.New("corp_id is required"))
	}
	if c.AgentID <= 0 {
		errs = append(errs, errors.New("agent_id must be a positive number"))
	}
	if c.Secret == "" {
		errs = append(errs, errors.New("secret is required"))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if _, err := aesKey(c.EncodingAESKey); err != nil {
		errs = append(errs, err)
	}
	if c.PerMemberHour > 0 && c.PerMemberMinute > c.PerMemberHour {
		errs = append(errs, fmt.Errorf("limits: per-member minute limit %d exceeds the hour limit %d", c.PerMemberMinute, c.PerMemberHour))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wecom: config: %w", err)
	}
	return nil
}

// aesKey decodes an EncodingAESKey (43 base64 characters) into the 32-byte
// AES key.
func aesKey(encoded string) ([]byte, error) {
	if len(encoded) != 43 {
		return nil, fmt.Errorf("encoding_aes_key must be 43 characters, got %d", len(encoded))
	}
	key, err := base64.StdEncoding.DecodeString(encoded + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("encoding_aes_key is not valid base64 of 32 bytes")
	}
	return key, nil
}
