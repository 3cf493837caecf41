// Package configs holds the typed configuration of opsbot: how it is located
// (Resolve), loaded from YAML with defaults, OPSBOT_* environment overrides
// and *_file secrets (Load), validated (Config.Validate) and logged safely
// (Config.Redacted).
package configs

import (
	"bytes"
	_ "embed" // DevYAML is embedded.
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Bot.Timezone must load without system tzdata.

	"gopkg.in/yaml.v3"

	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// DevYAML is the embedded copy of configs/dev.yaml, used by Load when no
// config file is given.
//
//go:embed dev.yaml
var DevYAML []byte

// DefaultPath is the development config file that Resolve picks when neither
// the --config flag nor OPSBOT_CONFIG is set and the file exists.
const DefaultPath = "configs/dev.yaml"

// EnvConfig is the environment variable holding the config file path.
const EnvConfig = "OPSBOT_CONFIG"

// Config is the complete opsbot configuration.
type Config struct {
	Server      Server      `yaml:"server"`
	Database    Database    `yaml:"database"`
	Redis       Redis       `yaml:"redis"`
	Bot         Bot         `yaml:"bot"`
	Bootstrap   Bootstrap   `yaml:"bootstrap"`
	Demo        Demo        `yaml:"demo"`
	Webchat     Webchat     `yaml:"webchat"`
	API         API         `yaml:"api"`
	Auth        Auth        `yaml:"auth"`
	Console     Console     `yaml:"console"`
	Channels    []Channel   `yaml:"channels"`
	Delivery    Delivery    `yaml:"delivery"`
	Worker      Worker      `yaml:"worker"`
	Scheduler   Scheduler   `yaml:"scheduler"`
	Approvals   Approvals   `yaml:"approvals"`
	Incidents   Incidents   `yaml:"incidents"`
	Paging      Paging      `yaml:"paging"`
	Alerts      Alerts      `yaml:"alerts"`
	Calendar    Calendar    `yaml:"calendar"`
	Inspections Inspections `yaml:"inspections"`
	Backups     Backups     `yaml:"backups"`
	Emergency   Emergency   `yaml:"emergency"`
	Audit       Audit       `yaml:"audit"`
	Digest      Digest      `yaml:"digest"`
	Reports     Reports     `yaml:"reports"`
	Slack       Slack       `yaml:"slack"`
	WeCom       WeCom       `yaml:"wecom"`
	Log         Log         `yaml:"log"`
}

var slackChannel = regexp.MustCompile(`^([CG][A-Z0-9]{8,}|#[a-z0-9][a-z0-9._-]{0,79})$`)

// Calendar configures working time.
type Calendar struct {
	// WorkingHours are the working periods of a working day, "HH:MM-HH:MM,…"
	// (default "08:30-12:00,14:00-17:30").
	WorkingHours string `yaml:"working_hours"`
	// PeriodRule says how "within N working days of receipt" is counted:
	// next_day (default: from the working day after receipt to the close
	// of working hours of the Nth working day, M 6.2) or elapsed_hours
	// (N days of working hours from the moment of receipt, the old rule).
	PeriodRule string `yaml:"period_rule"`
}

// Periods parses WorkingHours into minutes after midnight.
func (c Calendar) Periods() ([]calendar.Period, error) {
	var out []calendar.Period
	for _, part := range strings.Split(c.WorkingHours, ",") {
		start, end, err := parseSpan(part)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && start < out[len(out)-1].End {
			return nil, fmt.Errorf("periods must be in order and not overlap, got %q", c.WorkingHours)
		}
		out = append(out, calendar.Period{Start: start, End: end})
	}
	return out, nil
}

// Inspections configures inspection plans.
type Inspections struct {
	// Grace is how long after a run is due the assignee is reminded, and
	// again until the assignee's admin is told (default 2h).
	Grace Duration `yaml:"grace"`
	// IssueLevel is the level of the incident an item marked Issue opens (default 3).
	IssueLevel int `yaml:"issue_level"`
	// Channel also sees each run's checklist card ("" for none).
	Channel string `yaml:"channel"`
}

// Backups configures backup checks (W 8.4).
type Backups struct {
	// Token lets backup scripts post reports to /api/v1/backups/report ("" disables it).
	Token string `yaml:"token" secret:"true"`
	// TokenFile names a file holding Token.
	TokenFile string `yaml:"token_file"`
	// Grace is how long after a missed deadline the reminder is followed by escalation (default 1h).
	Grace Duration `yaml:"grace"`
	// FailLevel is the level of the incident a failed backup opens (default 3).
	FailLevel int `yaml:"fail_level"`
	// VerifyDay is the day of the month by which each system's restore test is due (default 25).
	VerifyDay int `yaml:"verify_day"`
	// Lead signs off the monthly backup-record audit: a user id or a role (default "sys_admin").
	Lead string `yaml:"lead"`
}

// Emergency configures emergency response (W 9.3).
type Emergency struct {
	// ReportPath is where early warnings (W 9.3 a) and the continuous
	// reports of level I/II incidents (W 9.3 f) go: the superiors.
	ReportPath ReportPath `yaml:"report_path"`
}

// ReportPath lists channels, users and roles (each role's holders); empty
// sends no warnings or reports anywhere.
type ReportPath struct {
	Channels []string `yaml:"channels"`
	Users    []string `yaml:"users"`
	Roles    []string `yaml:"roles"`
}

// Audit configures the audit chain's key, its signed checkpoints and
// retention (README "Audit chain").
type Audit struct {
	// KeyFile holds the HMAC key (64+ hex digits) that seals the chain and
	// signs checkpoints, kept outside the database. Required unless Unkeyed.
	KeyFile string `yaml:"key_file"`
	// GenerateKey creates KeyFile with a new random key when it is missing
	// (development; configs/dev.yaml sets it).
	GenerateKey bool `yaml:"generate_key"`
	// Unkeyed runs without a key: the chain is then only hash-linked, and a
	// database admin can rewrite it unseen. Refused once the chain is keyed.
	Unkeyed bool `yaml:"unkeyed"`
	// CheckpointFile is where signed checkpoints are appended as JSON lines
	// ("" none); keep it where the database's admins cannot write.
	CheckpointFile string `yaml:"checkpoint_file"`
	// CheckpointSyslog also sends each checkpoint to the local syslog.
	CheckpointSyslog bool `yaml:"checkpoint_syslog"`
	// CheckpointEvery is how often a checkpoint is published (default 1h, at most 1h).
	CheckpointEvery Duration `yaml:"checkpoint_every"`
	// Retention is how long entries are kept (default and minimum 4392h,
	// 183 days). opsbot never deletes entries; this is the promise made.
	Retention Duration `yaml:"retention"`
}

// MinAuditRetention is the shortest audit retention allowed: six months.
const MinAuditRetention = 183 * 24 * time.Hour

// WeCom configures the Enterprise WeChat platform (adapters/wecom/README.md).
type WeCom struct {
	// Enabled turns the WeCom adapter on.
	Enabled bool `yaml:"enabled"`
	// CorpID is the enterprise's corp id (企业ID).
	CorpID string `yaml:"corp_id"`
	// AgentID is the self-built app's AgentId.
	AgentID int64 `yaml:"agent_id"`
	// Secret is the app's Secret.
	Secret string `yaml:"secret" secret:"true"`
	// SecretFile names a file holding Secret.
	SecretFile string `yaml:"secret_file"`
	// ContactsSecret is the contacts-sync Secret (通讯录同步), for /org sync wecom ("" uses Secret).
	ContactsSecret string `yaml:"contacts_secret" secret:"true"`
	// ContactsSecretFile names a file holding ContactsSecret.
	ContactsSecretFile string `yaml:"contacts_secret_file"`
	// Token is the callback Token.
	Token string `yaml:"token" secret:"true"`
	// TokenFile names a file holding Token.
	TokenFile string `yaml:"token_file"`
	// EncodingAESKey is the callback EncodingAESKey (43 characters).
	EncodingAESKey string `yaml:"encoding_aes_key" secret:"true"`
	// EncodingAESKeyFile names a file holding EncodingAESKey.
	EncodingAESKeyFile string `yaml:"encoding_aes_key_file"`
	// APIBase is the WeCom API base URL (default https://qyapi.weixin.qq.com).
	APIBase string `yaml:"api_base"`
	// Limits are WeCom's send quotas.
	Limits WeComLimits `yaml:"limits"`
	// CallbackWindow is how far a callback's timestamp may be from now,
	// either way, for it to be handled (default 5m, at most 1h: the time
	// a callback id is remembered against retries).
	CallbackWindow Duration `yaml:"callback_window"`
}

// WeComLimits are WeCom's send quotas; messages over them are held and sent later.
type WeComLimits struct {
	// PerMemberMinute is messages to one member per minute (default 30).
	PerMemberMinute int `yaml:"per_member_minute"`
	// PerMemberHour is messages to one member per hour (default 1000).
	PerMemberHour int `yaml:"per_member_hour"`
	// RobotPerMinute is messages to one group robot per minute (default 20).
	RobotPerMinute int `yaml:"robot_per_minute"`
}

// Slack configures the Slack platform (adapters/slack).
type Slack struct {
	// Enabled turns the Slack adapter on.
	Enabled bool `yaml:"enabled"`
	// BotToken is the bot user OAuth token (xoxb-…).
	BotToken string `yaml:"bot_token" secret:"true"`
	// BotTokenFile names a file holding BotToken.
	BotTokenFile string `yaml:"bot_token_file"`
	// SigningSecret verifies requests from Slack (HTTP mode).
	SigningSecret string `yaml:"signing_secret" secret:"true"`
	// SigningSecretFile names a file holding SigningSecret.
	SigningSecretFile string `yaml:"signing_secret_file"`
	// AppToken is the app-level token (xapp-…) for Socket Mode.
	AppToken string `yaml:"app_token" secret:"true"`
	// AppTokenFile names a file holding AppToken.
	AppTokenFile string `yaml:"app_token_file"`
	// SocketMode receives events over a websocket instead of HTTP.
	SocketMode bool `yaml:"socket_mode"`
	// APIURL overrides https://slack.com/api/ (tests, proxies).
	APIURL string `yaml:"api_url"`
	// ReasonActions are buttons that ask for a reason in a modal (default approval.reject, approval.fail, approval.issues).
	ReasonActions []string `yaml:"reason_actions"`
}

// Digest configures the managers' daily digest.
type Digest struct {
	// At is the local time of the digest on working days, "HH:MM" (default "09:00").
	At string `yaml:"at"`
}

// Reports configures the pushed reports: the monthly report on the first
// working day of each month and the quarterly internal check.
type Reports struct {
	// At is the local time they go out, "HH:MM" (default "09:00").
	At string `yaml:"at"`
	// ActionDays is the working days a check's corrective action is due in (default 10).
	ActionDays int `yaml:"action_days"`
}

// Alerts configures the Alertmanager receiver.
type Alerts struct {
	// Receivers are the credentials Alertmanager may use (bearer token or basic auth).
	Receivers []AlertReceiver `yaml:"receivers"`
	// AlertmanagerURL is where silences are created ("" disables the silence buttons).
	AlertmanagerURL string `yaml:"alertmanager_url"`
	// MaxBodyBytes caps a webhook body (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxInFlight bounds the webhooks being applied at once; beyond it a
	// post gets 503 with Retry-After, which Alertmanager retries (0, the
	// default: 32 a core, at least 64).
	MaxInFlight int `yaml:"max_in_flight"`
	// SeverityLevels maps the severity label to an incident level (default critical 2, warning 3, info 4).
	SeverityLevels map[string]int `yaml:"severity_levels"`
	// LevelLabel overrides the level when set on an alert (default "level").
	LevelLabel string `yaml:"level_label"`
	// Routes send alerts whose labels match to a rotation, channel and unit; the first match wins.
	Routes []AlertRoute `yaml:"routes"`
	// ReopenWindow: a resolved incident firing again within it is reopened (default 30m).
	ReopenWindow Duration `yaml:"reopen_window"`
	// UpdateEvery: at most one chat update per incident per this (default 30s).
	UpdateEvery Duration `yaml:"update_every"`
	// HTTPKindLabel and HTTPKindValue mark HTTP-availability alerts (default kind=http_status).
	HTTPKindLabel string `yaml:"http_kind_label"`
	HTTPKindValue string `yaml:"http_kind_value"`
	// AppLabel names the app, whose access party the non-200 rule pages (default "app").
	AppLabel string `yaml:"app_label"`
	// Non200After: an HTTP-availability alert firing this long is joint troubleshooting (default 10m).
	Non200After Duration `yaml:"non200_after"`
	// Slow marks slow-response alerts, which page the app's access party
	// like the non-200 rule (M 7.3.3 c): label → regular expression matched
	// whole; an alert is slow when one of them matches (default alertname
	// SlowResponse|HighLatency|AppSlowResponse, kind slow|slow_response).
	Slow map[string]string `yaml:"slow"`
	// SlowAfter: a slow-response alert firing this long pages the access
	// party (default 0: at once, the rule's "for" having waited).
	SlowAfter Duration `yaml:"slow_after"`
}

// AlertReceiver is one set of webhook credentials.
type AlertReceiver struct {
	Name            string `yaml:"name"`
	BearerToken     string `yaml:"bearer_token" secret:"true"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	Username        string `yaml:"username"`
	Password        string `yaml:"password" secret:"true"`
	PasswordFile    string `yaml:"password_file"`
}

// AlertRoute routes alerts by label matchers.
type AlertRoute struct {
	Match    map[string]string `yaml:"match"`
	Rotation string            `yaml:"rotation"`
	Channel  string            `yaml:"channel"`
	Unit     string            `yaml:"unit"`
}

// Incidents configures incidents and duty.
type Incidents struct {
	// Channel gets every incident card and update ("" for none).
	Channel string `yaml:"channel"`
	// Rotation is paged for incidents no unit's rotation covers ("" for none).
	Rotation string `yaml:"rotation"`
	// Escalation is each level's escalation: "primary; 5m secondary; 15m unit_admin".
	Escalation IncidentLevels `yaml:"escalation"`
	// Progress is how often an open incident's owner must report, by level.
	Progress ProgressLevels `yaml:"progress"`
	// ProblemDueDays is how many working days the owner of the problem a
	// resolved level I/II incident proposes has to resolve it (W 8.5).
	ProblemDueDays int `yaml:"problem_due_days"`
}

// IncidentLevels holds one escalation line per incident level.
type IncidentLevels struct {
	Level1 string `yaml:"level1"`
	Level2 string `yaml:"level2"`
	Level3 string `yaml:"level3"`
	Level4 string `yaml:"level4"`
}

// ProgressLevels holds one progress-report interval per incident level.
type ProgressLevels struct {
	Level1 Duration `yaml:"level1"`
	Level2 Duration `yaml:"level2"`
	Level3 Duration `yaml:"level3"`
	Level4 Duration `yaml:"level4"`
}

// Policy returns the incident escalation policy.
func (i Incidents) Policy() (incident.Policy, error) {
	e, p := i.Escalation, i.Progress
	return incident.ParsePolicy([4]string{e.Level1, e.Level2, e.Level3, e.Level4},
		[4]time.Duration{p.Level1.D(), p.Level2.D(), p.Level3.D(), p.Level4.D()})
}

// Paging configures paging beyond chat (SMS, voice, e-mail, webhook).
type Paging struct {
	// Rules is each level's notification chain, e.g. "chat; 2m sms; 5m
	// voice" ("" for the default: level I/II chat, SMS after 2m, voice
	// after 5m; level III/IV chat only).
	Rules IncidentLevels `yaml:"rules"`
	// MaxPerHour is the most SMS and calls per person per hour (default 6).
	MaxPerHour int `yaml:"max_per_hour"`
	// Providers send the pages, in order of preference per method.
	Providers []PagingProvider `yaml:"providers"`
	// CallbackToken is the secret path segment of the providers' reply
	// callbacks (/paging/callback/aliyun/sms/<token> …); empty: the
	// token-authenticated callbacks refuse every request.
	CallbackToken string `yaml:"callback_token"`
}

// PagingProvider is one provider of pages.
type PagingProvider struct {
	Name     string            `yaml:"name"`
	Type     string            `yaml:"type"`    // aliyun, tencent, smtp, webhook
	Methods  []string          `yaml:"methods"` // sms, voice, email, webhook
	Settings map[string]string `yaml:"settings"`
}

// RulesByLevel returns the notification chain of every level.
func (p Paging) RulesByLevel() (map[int][]paging.Rule, error) {
	out := paging.DefaultRules()
	for i, line := range []string{p.Rules.Level1, p.Rules.Level2, p.Rules.Level3, p.Rules.Level4} {
		if strings.TrimSpace(line) == "" {
			continue
		}
		r, err := paging.ParseRules(line)
		if err != nil {
			return nil, fmt.Errorf("level%d: %w", i+1, err)
		}
		out[i+1] = r
	}
	return out, nil
}

func (c *Config) validatePaging(add adder) {
	if _, err := c.Paging.RulesByLevel(); err != nil {
		add("paging.rules", "%v", err)
	}
	if c.Paging.MaxPerHour < 0 {
		add("paging.max_per_hour", "must not be negative, got %d", c.Paging.MaxPerHour)
	}
	names := map[string]bool{}
	for i, pr := range c.Paging.Providers {
		p := fmt.Sprintf("paging.providers[%d]", i)
		if pr.Name == "" || names[pr.Name] {
			add(p+".name", "required and unique, got %q", pr.Name)
		}
		names[pr.Name] = true
		if pr.Type == "" {
			add(p+".type", "required (aliyun, tencent, smtp or webhook)")
		}
		if len(pr.Methods) == 0 {
			add(p+".methods", "required (sms, voice, email, webhook)")
		}
		for j, m := range pr.Methods {
			switch paging.Method(m) {
			case paging.MethodSMS, paging.MethodVoice, paging.MethodEmail, paging.MethodWebhook:
			default:
				add(fmt.Sprintf("%s.methods[%d]", p, j), "must be sms, voice, email or webhook, got %q", m)
			}
		}
	}
}

// Approvals configures the approval engine.
type Approvals struct {
	// Channel sees every request card and the app announcements ("" for none).
	Channel string `yaml:"channel"`
	// RemindEvery is the working time between reminders to pending deciders (default 4h).
	RemindEvery Duration `yaml:"remind_every"`
	// Daytime is the daytime operating span of working days in which normal
	// changes may not be scheduled, "HH:MM-HH:MM" (default "08:30-18:00").
	Daytime string `yaml:"daytime"`
}

// DaytimeMinutes returns Daytime as minutes after midnight.
func (a Approvals) DaytimeMinutes() (start, end int, err error) { return parseSpan(a.Daytime) }

// parseSpan parses "HH:MM-HH:MM" into minutes after midnight.
func parseSpan(span string) (start, end int, err error) {
	from, to, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", span)
	}
	f, err1 := time.Parse("15:04", strings.TrimSpace(from))
	t, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", span)
	}
	start, end = f.Hour()*60+f.Minute(), t.Hour()*60+t.Minute()
	if end <= start {
		return 0, 0, fmt.Errorf("the end must be after the start, got %q", span)
	}
	return start, end, nil
}

// Server configures the HTTP server.
type Server struct {
	// Listen is the host:port to listen on (default "127.0.0.1:8080").
	Listen string `yaml:"listen"`
	// ShutdownTimeout bounds graceful shutdown (default 10s).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes caps request bodies (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TLSCert and TLSKey name PEM files; when both are set the server
	// speaks HTTPS only (default "": plain HTTP, e.g. behind a reverse proxy).
	TLSCert string `yaml:"tls_cert"`
	// TLSKey is the private key file matching TLSCert.
	TLSKey string `yaml:"tls_key"`
	// TrustedProxies are the IP addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For header gives the client address (default none: the
	// peer address is the client).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AllowDevOnNetwork lets webchat.dev_mode run on a non-loopback
	// server.listen (default false: refused, since dev mode lets anyone act
	// as anyone).
	AllowDevOnNetwork bool `yaml:"allow_dev_on_network"`
	// Pprof serves Go's runtime profiles under /debug/pprof/ (CPU, heap,
	// mutex, block, goroutines) to loopback peers only (default false).
	Pprof bool `yaml:"pprof"`
}

// TrustedNets parses TrustedProxies; a bare address is a /32 or /128.
func (s Server) TrustedNets() ([]*net.IPNet, error) {
	out := make([]*net.IPNet, 0, len(s.TrustedProxies))
	for i, p := range s.TrustedProxies {
		n, err := parseNet(p)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies[%d]: %w", i, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseNet parses an IP address or a CIDR.
func parseNet(s string) (*net.IPNet, error) {
	if ip := net.ParseIP(s); ip != nil {
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("must be an IP address or CIDR, got %q", s)
	}
	return n, nil
}

// isLoopbackListen reports whether the host of a host:port address is a
// loopback address or "localhost" (an empty host means every interface).
func isLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Database configures the Postgres connection.
type Database struct {
	// URL is the postgres:// connection URL (required, secret).
	URL string `yaml:"url" secret:"url"`
	// URLFile names a file holding URL.
	URLFile string `yaml:"url_file"`
	// MaxConns is the pool size (default 10, 1..1000).
	MaxConns int32 `yaml:"max_conns"`
	// MigrateOnStart runs migrations at startup (default true).
	MigrateOnStart *bool `yaml:"migrate_on_start"`
	// StatementTimeout is set as Postgres' statement_timeout on every
	// connection of serve, worker and scheduler (default 30s, 1s..1h);
	// migrations, advisory-lock waits and the audit chain walk are exempt.
	StatementTimeout Duration `yaml:"statement_timeout"`
}

// MigrateOnStartOr reports whether migrations run at startup; it is true when
// MigrateOnStart is unset.
func (d Database) MigrateOnStartOr() bool {
	if d.MigrateOnStart == nil {
		return true
	}
	return *d.MigrateOnStart
}

// Redis configures the Redis connection shared by go-redis and asynq.
type Redis struct {
	// Mode is single (default: url), sentinel (master_name, addrs) or
	// cluster (addrs).
	Mode string `yaml:"mode"`
	// URL is the redis:// or rediss:// URL (required in single mode, secret).
	URL string `yaml:"url" secret:"url"`
	// URLFile names a file holding URL.
	URLFile string `yaml:"url_file"`
	// MasterName is the Sentinel master name (sentinel mode).
	MasterName string `yaml:"master_name"`
	// Addrs are the Sentinels' host:port (sentinel mode) or cluster seed
	// nodes (cluster mode).
	Addrs []string `yaml:"addrs"`
	// Username is the Redis ACL user (sentinel and cluster modes; in single
	// mode it is part of url).
	Username string `yaml:"username"`
	// Password is the Redis password (sentinel and cluster modes, secret).
	Password string `yaml:"password" secret:"true"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
	// SentinelPassword authenticates to the Sentinels themselves (secret).
	SentinelPassword string `yaml:"sentinel_password" secret:"true"`
	// SentinelPasswordFile names a file holding SentinelPassword.
	SentinelPasswordFile string `yaml:"sentinel_password_file"`
	// DB is the database number (sentinel mode; cluster has only 0).
	DB int `yaml:"db"`
	// TLS connects with TLS (sentinel and cluster modes; single mode uses rediss://).
	TLS bool `yaml:"tls"`
	// TLSCAFile names a PEM file of CAs to trust instead of the system's.
	TLSCAFile string `yaml:"tls_ca_file"`
}

// Bot configures the bot's locale.
type Bot struct {
	// Language is "zh-CN" (default) or "en".
	Language string `yaml:"language"`
	// Timezone is an IANA zone name (default "Asia/Shanghai").
	Timezone string `yaml:"timezone"`
}

// Location returns the configured time zone, or UTC when Timezone does not
// load (Load rejects such configs). It loads the zone on every call, so
// callers should keep the result.
func (b Bot) Location() *time.Location {
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Bootstrap holds the data seeded into an empty database.
type Bootstrap struct {
	// Admin is the first administrator and its org unit.
	Admin BootstrapAdmin `yaml:"admin"`
}

// BootstrapAdmin describes the first administrator and its org unit.
type BootstrapAdmin struct {
	// User is the administrator's user id (ASCII code).
	User string `yaml:"user"`
	// Name is the administrator's display name.
	Name string `yaml:"name"`
	// Unit is the org unit id (ASCII code).
	Unit string `yaml:"unit"`
	// UnitName is the org unit's display name.
	UnitName string `yaml:"unit_name"`
}

// Demo configures the demo data set.
type Demo struct {
	// Enabled seeds demo users and data.
	Enabled bool `yaml:"enabled"`
}

// Webchat configures the built-in web chat platform.
type Webchat struct {
	// Enabled serves the web chat page and API.
	Enabled bool `yaml:"enabled"`
	// DevMode lets anyone act as any org user, no sign-in (local development only).
	DevMode bool `yaml:"dev_mode"`
	// Token is an optional service token for integrations: it acts as the
	// service user ServiceUser only, with ServiceRoles (before issue 14 it
	// could act as anyone). People sign in with personal links.
	Token string `yaml:"token" secret:"true"`
	// TokenFile names a file holding Token.
	TokenFile string `yaml:"token_file"`
	// PublicURL is the page's address in sign-in links (default http:// + server.listen).
	PublicURL string `yaml:"public_url"`
	// SessionTTL is how long a personal sign-in link works (default 720h).
	SessionTTL Duration `yaml:"session_ttl"`
	// ServiceUser is the service user Token acts as (default svc-webchat).
	ServiceUser string `yaml:"service_user"`
	// ServiceRoles are the roles of ServiceUser (default none).
	ServiceRoles []ServiceRole `yaml:"service_roles"`
}

// Console configures the web console under /console/ (issue 15): pages
// for managers and operators, signed in as for the web chat.
type Console struct {
	// Enabled serves /console/ (default true).
	Enabled *bool `yaml:"enabled"`
	// PublicURL is the console's address in deep links on chat cards
	// (default webchat.public_url).
	PublicURL string `yaml:"public_url"`
	// Refresh is how often the overview refreshes itself (default 15s,
	// at least 2s).
	Refresh Duration `yaml:"refresh"`
}

// EnabledOr reports whether the console is served (default true).
func (c Console) EnabledOr() bool { return c.Enabled == nil || *c.Enabled }

// API configures API tokens and the service users integrations act as.
type API struct {
	// Tokens tunes personal and service API tokens.
	Tokens APITokens `yaml:"tokens"`
	// ServiceUsers are the integrations' own org users, reconciled at
	// start: each exists, is marked a service user and holds exactly its
	// roles; its configured token is registered as its service token.
	ServiceUsers []ServiceUser `yaml:"service_users"`
}

// APITokens tunes API tokens.
type APITokens struct {
	// DefaultTTL is a personal token's life without --expires (default 2160h, 90 days).
	DefaultTTL Duration `yaml:"default_ttl"`
	// MaxTTL is the longest life a personal token may ask for (default 8760h, 365 days).
	MaxTTL Duration `yaml:"max_ttl"`
	// RatePerMinute is each token's sustained request rate (default 600).
	RatePerMinute int `yaml:"rate_per_minute"`
	// Burst is how many requests a token may make at once (default 60).
	Burst int `yaml:"burst"`
}

// ServiceUser is an integration's own org user.
type ServiceUser struct {
	// ID is the org user id (ASCII code).
	ID string `yaml:"id"`
	// Name is the display name.
	Name string `yaml:"name"`
	// Unit is the org unit code (default the root unit).
	Unit string `yaml:"unit"`
	// Roles are exactly the roles it holds.
	Roles []ServiceRole `yaml:"roles"`
	// Token is its service token (an opsb_… secret from /token service
	// create, or any long random string).
	Token string `yaml:"token" secret:"true"`
	// TokenFile names a file holding Token.
	TokenFile string `yaml:"token_file"`
	// TokenSHA256 is the token's SHA-256 in hex, instead of the token.
	TokenSHA256 string `yaml:"token_sha256"`
	// Scope of the configured token: read or write (default write).
	Scope string `yaml:"scope"`
}

// ServiceRole is one role a service user holds.
type ServiceRole struct {
	// Role is one of the org roles.
	Role string `yaml:"role"`
	// Scope is a unit code (an app code for access_party); "" is the role's default scope.
	Scope string `yaml:"scope"`
}

// Auth configures signing in to the web side (/auth/): sessions, WeCom
// web login and OIDC. Personal links from /webchat link always work.
type Auth struct {
	// CookieSecure marks the session cookie Secure (default true); turn it
	// off only for plain-http loopback development.
	CookieSecure *bool `yaml:"cookie_secure"`
	// SessionIdle ends a session unused this long (default 8h, 5m..30d).
	SessionIdle Duration `yaml:"session_idle"`
	// SessionAbsolute ends a session this long after sign-in (default
	// 168h, at least session_idle, at most 90d).
	SessionAbsolute Duration `yaml:"session_absolute"`
	// LoginAttemptsPerMinute limits sign-in attempts per client address
	// and per account (default 10, 1..1000).
	LoginAttemptsPerMinute int `yaml:"login_attempts_per_minute"`
	// WeComLogin offers WeCom web login (网页授权 / 扫码登录) when
	// wecom.enabled is on.
	WeComLogin bool `yaml:"wecom_login"`
	// RedirectBase is the public http(s) address WeCom sends browsers back
	// to, on the app's trusted domain (可信域名) (default
	// webchat.public_url; when both are empty, the address the browser
	// used).
	RedirectBase string `yaml:"redirect_base"`
	// WeComAuthorizeURL is WeCom's in-client OAuth2 page (default
	// https://open.weixin.qq.com/connect/oauth2/authorize; tests point it
	// at a stand-in).
	WeComAuthorizeURL string `yaml:"wecom_authorize_url"`
	// WeComSSOURL is WeCom's QR-code login page for other browsers
	// (default https://login.work.weixin.qq.com/wwlogin/sso/login).
	WeComSSOURL string `yaml:"wecom_sso_url"`
	// OIDC configures sign-in with an OIDC provider (off unless issuer is set).
	OIDC OIDC `yaml:"oidc"`
}

// CookieSecureOr reports whether the session cookie is Secure; true when unset.
func (a Auth) CookieSecureOr() bool { return a.CookieSecure == nil || *a.CookieSecure }

// OIDC configures an OIDC provider (Keycloak, Authing, ADFS …).
type OIDC struct {
	// Issuer is the provider's issuer URL (its discovery document lives
	// at issuer + /.well-known/openid-configuration).
	Issuer string `yaml:"issuer"`
	// ClientID is opsbot's client at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the client's secret (confidential client; PKCE is
	// used either way).
	ClientSecret string `yaml:"client_secret" secret:"true"`
	// ClientSecretFile names a file holding ClientSecret.
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is https://<opsbot>/auth/oidc/callback as registered at
	// the provider (default webchat.public_url + /auth/oidc/callback).
	RedirectURL string `yaml:"redirect_url"`
	// Scopes besides openid (default [profile, email]).
	Scopes []string `yaml:"scopes"`
	// Claim says how the ID token names the org user: userid (the claim is
	// the user id; default), email or phone (the value must be linked to
	// the user: /org user link <user> --platform email --id a@b.c).
	Claim string `yaml:"claim"`
	// ClaimName is the claim read (default preferred_username, email or
	// phone_number by claim).
	ClaimName string `yaml:"claim_name"`
	// DisplayName names the provider on the sign-in page (default "OIDC").
	DisplayName string `yaml:"display_name"`
}

// Channel is a named group of org users that notifications can target.
type Channel struct {
	// Name is the unique channel id.
	Name string `yaml:"name"`
	// Members are org user ids.
	Members []string `yaml:"members"`
	// Roles make every holder of one of these roles (on any scope) a
	// member too, e.g. [operator]. Default none.
	Roles []string `yaml:"roles"`
	// Slack is the channel's Slack address: a channel id (C0123ABCD, preferred) or "#name".
	Slack string `yaml:"slack"`
	// WeCom is the channel's WeCom address: appchat:<chatid>, robot:<webhook key> or user:<userid>.
	WeCom string `yaml:"wecom"`
}

// Delivery configures outbound message delivery.
type Delivery struct {
	// Platforms lists chat platforms in order of preference (default ["webchat"]).
	Platforms []string `yaml:"platforms"`
	// MaxAttempts bounds delivery attempts (default 25).
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBase is the first retry delay (default 2s).
	RetryBase Duration `yaml:"retry_base"`
	// RetryMax caps the retry delay (default 10m).
	RetryMax Duration `yaml:"retry_max"`
}

// Worker configures the asynq worker.
type Worker struct {
	// Concurrency is the number of concurrent tasks (default 10, 1..1000).
	Concurrency int `yaml:"concurrency"`
	// Queue is the asynq queue name (default "opsbot").
	Queue string `yaml:"queue"`
}

// Scheduler configures the scheduler loop.
type Scheduler struct {
	// SweepInterval is how often due work is swept (default 10s, >= 1s).
	SweepInterval Duration `yaml:"sweep_interval"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is text or json (default json, text when webchat.dev_mode is on).
	Format string `yaml:"format"`
}

// SlogLevel returns Level as a slog.Level (info when unknown).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Duration is a time.Duration written in YAML and environment variables as a
// Go duration string such as "10s", "5m" or "1h30m".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns d formatted like time.Duration.String.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText encodes d as a duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a duration string such as "1h30m".
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("want a duration like 10s, 5m or 1h30m: %w", err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML decodes a scalar duration string, reporting the line on error.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration like 10s, 5m or 1h30m", n.Line)}}
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot decode %q as a duration: %v", n.Line, n.Value, err)}}
	}
	return nil
}

// ValidationError lists every problem found by Config.Validate.
type ValidationError struct {
	// Problems are "<yaml.path>: <why>" lines in field order.
	Problems []string
}

// Error returns "config: " followed by the problems joined with newlines.
func (e *ValidationError) Error() string {
	return "config: " + strings.Join(e.Problems, "\n")
}

// Resolve returns the config source: flagValue if non-empty, else
// $OPSBOT_CONFIG, else DefaultPath if that file exists (relative to the
// working directory), else "" meaning the embedded dev config. A nil getenv
// or fileExists uses the process environment or file system.
func Resolve(flagValue string, getenv func(string) string, fileExists func(string) bool) string {
	if flagValue != "" {
		return flagValue
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(EnvConfig); v != "" {
		return v
	}
	if fileExists == nil {
		fileExists = func(p string) bool {
			st, err := os.Stat(p)
			return err == nil && !st.IsDir()
		}
	}
	if fileExists(DefaultPath) {
		return DefaultPath
	}
	return ""
}

// Load reads the YAML file at path (or DevYAML when path is ""), decodes it
// strictly, applies defaults, applies OPSBOT_* overrides from environ
// ("K=V" entries as from os.Environ), reads *_file secrets, validates and
// returns the config. Validation failures are a *ValidationError.
func Load(path string, environ []string) (*Config, error) {
	name, data := "embedded dev.yaml", DevYAML
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		name = path
	}
	var c Config
	if err := decodeStrict(data, &c); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	c.applyDefaults()
	envSet, err := applyEnv(&c, environ)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := applyFiles(&c, envSet); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.applyLateDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeStrict decodes a single YAML document into c, rejecting unknown keys.
// An empty document leaves c unchanged.
func decodeStrict(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	default:
		return fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
}

// applyDefaults fills zero values with defaults.
func (c *Config) applyDefaults() {
	setDefault(&c.Server.Listen, "127.0.0.1:8080")
	setDefault(&c.Server.ShutdownTimeout, Duration(10*time.Second))
	setDefault(&c.Server.MaxBodyBytes, 1<<20)
	setDefault(&c.Database.MaxConns, 10)
	setDefault(&c.Database.StatementTimeout, Duration(30*time.Second))
	if c.Database.MigrateOnStart == nil {
		on := true
		c.Database.MigrateOnStart = &on
	}
	setDefault(&c.Bot.Language, "zh-CN")
	setDefault(&c.Bot.Timezone, "Asia/Shanghai")
	if len(c.Delivery.Platforms) == 0 {
		c.Delivery.Platforms = []string{"webchat"}
	}
	setDefault(&c.Delivery.MaxAttempts, 25)
	setDefault(&c.Delivery.RetryBase, Duration(2*time.Second))
	setDefault(&c.Delivery.RetryMax, Duration(10*time.Minute))
	setDefault(&c.Worker.Concurrency, 10)
	setDefault(&c.Worker.Queue, "opsbot")
	setDefault(&c.Scheduler.SweepInterval, Duration(10*time.Second))
	setDefault(&c.Approvals.RemindEvery, Duration(4*time.Hour))
	setDefault(&c.Approvals.Daytime, "08:30-18:00")
	setDefault(&c.Alerts.MaxBodyBytes, 1<<20)
	if c.Alerts.SeverityLevels == nil {
		c.Alerts.SeverityLevels = map[string]int{"critical": 2, "warning": 3, "info": 4}
	}
	setDefault(&c.Alerts.LevelLabel, "level")
	setDefault(&c.Alerts.ReopenWindow, Duration(30*time.Minute))
	setDefault(&c.Alerts.UpdateEvery, Duration(30*time.Second))
	setDefault(&c.Alerts.HTTPKindLabel, "kind")
	setDefault(&c.Alerts.HTTPKindValue, "http_status")
	setDefault(&c.Alerts.AppLabel, "app")
	setDefault(&c.Alerts.Non200After, Duration(10*time.Minute))
	if c.Alerts.Slow == nil {
		c.Alerts.Slow = map[string]string{"alertname": "SlowResponse|HighLatency|AppSlowResponse", "kind": "slow|slow_response"}
	}
	def := incident.DefaultPolicy()
	setDefault(&c.Incidents.Escalation.Level1, incident.FormatSteps(def.Steps[1]))
	setDefault(&c.Incidents.Escalation.Level2, incident.FormatSteps(def.Steps[2]))
	setDefault(&c.Incidents.Escalation.Level3, incident.FormatSteps(def.Steps[3]))
	setDefault(&c.Incidents.Escalation.Level4, incident.FormatSteps(def.Steps[4]))
	setDefault(&c.Incidents.Progress.Level1, Duration(def.Progress[1]))
	setDefault(&c.Incidents.Progress.Level2, Duration(def.Progress[2]))
	setDefault(&c.Incidents.Progress.Level3, Duration(def.Progress[3]))
	setDefault(&c.Incidents.Progress.Level4, Duration(def.Progress[4]))
	setDefault(&c.Incidents.ProblemDueDays, 10)
	setDefault(&c.Webchat.SessionTTL, Duration(720*time.Hour))
	setDefault(&c.Webchat.ServiceUser, "svc-webchat")
	setDefault(&c.API.Tokens.DefaultTTL, Duration(90*24*time.Hour))
	setDefault(&c.API.Tokens.MaxTTL, Duration(365*24*time.Hour))
	setDefault(&c.API.Tokens.RatePerMinute, 600)
	setDefault(&c.API.Tokens.Burst, 60)
	setDefault(&c.Auth.SessionIdle, Duration(8*time.Hour))
	setDefault(&c.Auth.SessionAbsolute, Duration(7*24*time.Hour))
	setDefault(&c.Auth.LoginAttemptsPerMinute, 10)
	setDefault(&c.Console.Refresh, Duration(15*time.Second))
	setDefault(&c.Auth.WeComAuthorizeURL, "https://open.weixin.qq.com/connect/oauth2/authorize")
	setDefault(&c.Auth.WeComSSOURL, "https://login.work.weixin.qq.com/wwlogin/sso/login")
	setDefault(&c.Auth.OIDC.Claim, "userid")
	setDefault(&c.Calendar.WorkingHours, "08:30-12:00,14:00-17:30")
	setDefault(&c.Calendar.PeriodRule, string(calendar.NextDay))
	setDefault(&c.Inspections.Grace, Duration(2*time.Hour))
	setDefault(&c.Inspections.IssueLevel, 3)
	setDefault(&c.Backups.Grace, Duration(time.Hour))
	setDefault(&c.Backups.FailLevel, 3)
	setDefault(&c.Backups.VerifyDay, 25)
	setDefault(&c.Backups.Lead, "sys_admin")
	setDefault(&c.Digest.At, "09:00")
	setDefault(&c.Reports.At, "09:00")
	if c.Reports.ActionDays == 0 {
		c.Reports.ActionDays = 10
	}
	setDefault(&c.Audit.CheckpointEvery, Duration(time.Hour))
	setDefault(&c.Audit.Retention, Duration(MinAuditRetention))
	setDefault(&c.WeCom.APIBase, "https://qyapi.weixin.qq.com")
	setDefault(&c.WeCom.Limits.PerMemberMinute, 30)
	setDefault(&c.WeCom.Limits.PerMemberHour, 1000)
	setDefault(&c.WeCom.Limits.RobotPerMinute, 20)
	setDefault(&c.WeCom.CallbackWindow, Duration(5*time.Minute))
	setDefault(&c.Redis.Mode, "single")
	setDefault(&c.Log.Level, "info")
}

// applyLateDefaults fills defaults that depend on other keys once the
// environment has been applied: logs are JSON unless in dev mode.
func (c *Config) applyLateDefaults() {
	// Addresses derived from webchat.public_url, after the environment and
	// files had their say (OPSBOT_WEBCHAT_PUBLIC_URL alone must reach them).
	setDefault(&c.Auth.RedirectBase, c.Webchat.PublicURL)
	setDefault(&c.Console.PublicURL, c.Webchat.PublicURL)
	if c.Auth.OIDC.RedirectURL == "" && c.Webchat.PublicURL != "" {
		c.Auth.OIDC.RedirectURL = strings.TrimRight(c.Webchat.PublicURL, "/") + "/auth/oidc/callback"
	}
	if c.Webchat.DevMode {
		setDefault(&c.Log.Format, "text")
	}
	setDefault(&c.Log.Format, "json")
}

// setDefault sets *p to v when *p is the zero value.
func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// roleNames lists the org roles a channel may name.
func roleNames() string {
	names := make([]string, len(org.Roles))
	for i, r := range org.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// hasChannel reports whether name is one of channels[].name.
func (c *Config) hasChannel(name string) bool {
	return slices.ContainsFunc(c.Channels, func(x Channel) bool { return x.Name == name })
}

// Validate checks c and returns a *ValidationError listing every problem, or
// nil.
func (c *Config) Validate() error {
	var problems []string
	add := func(path, format string, args ...any) {
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}

	// server
	if c.Server.Listen == "" {
		add("server.listen", "required (set server.listen or %s)", envName("server.listen"))
	} else if _, port, err := net.SplitHostPort(c.Server.Listen); err != nil {
		add("server.listen", "must be host:port, got %q", c.Server.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("server.listen", "must be host:port with a numeric port 0-65535, got %q", c.Server.Listen)
	}
	if c.Server.ShutdownTimeout <= 0 {
		add("server.shutdown_timeout", "must be positive, got %s", c.Server.ShutdownTimeout)
	}
	if c.Server.MaxBodyBytes <= 0 {
		add("server.max_body_bytes", "must be positive, got %d", c.Server.MaxBodyBytes)
	}
	if c.Alerts.MaxInFlight < 0 {
		add("alerts.max_in_flight", "must be 0 (sized for the machine) or positive, got %d", c.Alerts.MaxInFlight)
	}
	c.validateServerDeploy(add)

	// database, redis
	checkURL(add, "database.url", c.Database.URL, "postgres://", "postgresql://")
	if c.Database.MaxConns < 1 || c.Database.MaxConns > 1000 {
		add("database.max_conns", "must be between 1 and 1000, got %d", c.Database.MaxConns)
	}
	if c.Database.StatementTimeout < Duration(time.Second) || c.Database.StatementTimeout > Duration(time.Hour) {
		add("database.statement_timeout", "must be between 1s and 1h, got %s", c.Database.StatementTimeout)
	}
	c.validateRedis(add)

	// bot
	if c.Bot.Language != "zh-CN" && c.Bot.Language != "en" {
		add("bot.language", `must be "zh-CN" or "en", got %q`, c.Bot.Language)
	}
	if c.Bot.Timezone == "" {
		add("bot.timezone", "required (set bot.timezone or %s)", envName("bot.timezone"))
	} else if _, err := time.LoadLocation(c.Bot.Timezone); err != nil {
		add("bot.timezone", "unknown time zone %q", c.Bot.Timezone)
	}

	// bootstrap
	a := c.Bootstrap.Admin
	checkCode(add, "bootstrap.admin.user", a.User, "_.-")
	checkRequired(add, "bootstrap.admin.name", a.Name)
	checkCode(add, "bootstrap.admin.unit", a.Unit, "_.-")
	checkRequired(add, "bootstrap.admin.unit_name", a.UnitName)

	// webchat
	if u := c.Webchat.PublicURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		add("webchat.public_url", "must be an http(s) URL, got %q", u)
	}
	if u := c.Console.PublicURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		add("console.public_url", "must be an http(s) URL, got %q", u)
	}
	if c.Console.Refresh.D() < 2*time.Second {
		add("console.refresh", "must be at least 2s, got %s", c.Console.Refresh)
	}
	if c.Webchat.SessionTTL.D() < time.Minute {
		add("webchat.session_ttl", "must be at least 1m, got %s", c.Webchat.SessionTTL)
	}

	c.validateAPI(add)
	c.validateAuth(add)
	c.validatePaging(add)

	// channels
	channelAt := map[string]int{}
	for i, ch := range c.Channels {
		p := fmt.Sprintf("channels[%d]", i)
		switch first, dup := channelAt[ch.Name]; {
		case ch.Name == "":
			add(p+".name", "required")
		case !isCode(ch.Name, "_-"):
			add(p+".name", "must match ^[a-z0-9][a-z0-9_-]{0,63}$, got %q", ch.Name)
		case dup:
			add(p+".name", "duplicate %q (first at channels[%d])", ch.Name, first)
		default:
			channelAt[ch.Name] = i
		}
		seen := map[string]bool{}
		for j, m := range ch.Members {
			mp := fmt.Sprintf("%s.members[%d]", p, j)
			switch {
			case !isCode(m, "_.-"):
				add(mp, "must be a user id matching ^[a-z0-9][a-z0-9_.-]{0,63}$, got %q", m)
			case seen[m]:
				add(mp, "duplicate %q", m)
			}
			seen[m] = true
		}
		for j, r := range ch.Roles {
			if !org.Role(r).Valid() {
				add(fmt.Sprintf("%s.roles[%d]", p, j), "must be one of %s, got %q", roleNames(), r)
			}
		}
	}

	// delivery
	if len(c.Delivery.Platforms) == 0 {
		add("delivery.platforms", "must list at least one platform")
	}
	seenPlatform := map[string]bool{}
	for i, pl := range c.Delivery.Platforms {
		p := fmt.Sprintf("delivery.platforms[%d]", i)
		switch {
		case pl != "webchat" && pl != "wecom" && pl != "slack":
			add(p, `must be "webchat", "wecom" or "slack", got %q`, pl)
		case seenPlatform[pl]:
			add(p, "duplicate %q", pl)
		}
		seenPlatform[pl] = true
	}
	if c.Delivery.MaxAttempts < 1 {
		add("delivery.max_attempts", "must be at least 1, got %d", c.Delivery.MaxAttempts)
	}
	if c.Delivery.RetryBase <= 0 {
		add("delivery.retry_base", "must be positive, got %s", c.Delivery.RetryBase)
	}
	if c.Delivery.RetryMax < c.Delivery.RetryBase {
		add("delivery.retry_max", "must be >= delivery.retry_base (%s), got %s", c.Delivery.RetryBase, c.Delivery.RetryMax)
	}

	// worker, scheduler
	if c.Worker.Concurrency < 1 || c.Worker.Concurrency > 1000 {
		add("worker.concurrency", "must be between 1 and 1000, got %d", c.Worker.Concurrency)
	}
	checkRequired(add, "worker.queue", c.Worker.Queue)
	if c.Scheduler.SweepInterval.D() < time.Second {
		add("scheduler.sweep_interval", "must be at least 1s, got %s", c.Scheduler.SweepInterval)
	}

	// approvals
	if c.Approvals.RemindEvery.D() < time.Minute {
		add("approvals.remind_every", "must be at least 1m, got %s", c.Approvals.RemindEvery)
	}
	if _, _, err := c.Approvals.DaytimeMinutes(); err != nil {
		add("approvals.daytime", "%v", err)
	}
	if ch := c.Approvals.Channel; ch != "" && !c.hasChannel(ch) {
		add("approvals.channel", "%q is not one of channels[].name", ch)
	}

	// wecom
	if w := c.WeCom; w.Enabled {
		for _, req := range []struct{ key, val string }{{"wecom.corp_id", w.CorpID}, {"wecom.secret", w.Secret}, {"wecom.token", w.Token}} {
			if req.val == "" {
				add(req.key, "required when wecom.enabled is true (set %s or %s)", req.key, envName(req.key))
			}
		}
		if w.AgentID <= 0 {
			add("wecom.agent_id", "required when wecom.enabled is true (the app's AgentId)")
		}
		if len(w.EncodingAESKey) != 43 {
			add("wecom.encoding_aes_key", "must be the 43 characters WeCom shows, got %d", len(w.EncodingAESKey))
		}
		if _, err := url.Parse(w.APIBase); err != nil || !strings.HasPrefix(w.APIBase, "http") {
			add("wecom.api_base", "must be an http(s) URL, got %q", w.APIBase)
		}
		if l := w.Limits; l.PerMemberMinute < 1 || l.PerMemberHour < l.PerMemberMinute || l.RobotPerMinute < 1 {
			add("wecom.limits", "need 1 <= per_member_minute <= per_member_hour and robot_per_minute >= 1, got %d/%d/%d", l.PerMemberMinute, l.PerMemberHour, l.RobotPerMinute)
		}
		if cw := w.CallbackWindow.D(); cw < time.Second || cw > time.Hour {
			add("wecom.callback_window", "must be between 1s and 1h (callback ids are remembered for 1h), got %s", cw)
		}
	}
	for i, ch := range c.Channels {
		if ch.WeCom != "" && !strings.HasPrefix(ch.WeCom, "appchat:") && !strings.HasPrefix(ch.WeCom, "robot:") && !strings.HasPrefix(ch.WeCom, "user:") {
			add(fmt.Sprintf("channels[%d].wecom", i), "want appchat:<chatid>, robot:<key> or user:<userid>, got %q", ch.WeCom)
		}
	}

	// slack
	if c.Slack.Enabled {
		if c.Slack.BotToken == "" {
			add("slack.bot_token", "required when slack.enabled is true (set slack.bot_token, slack.bot_token_file or %s)", envName("slack.bot_token"))
		}
		if c.Slack.SocketMode && c.Slack.AppToken == "" {
			add("slack.app_token", "required when slack.socket_mode is true (set slack.app_token, slack.app_token_file or %s)", envName("slack.app_token"))
		}
		if !c.Slack.SocketMode && c.Slack.SigningSecret == "" {
			add("slack.signing_secret", "required in HTTP mode (set slack.signing_secret, slack.signing_secret_file or %s)", envName("slack.signing_secret"))
		}
	}
	for i, ch := range c.Channels {
		if ch.Slack != "" && !slackChannel.MatchString(ch.Slack) {
			add(fmt.Sprintf("channels[%d].slack", i), "want a channel id (C0123ABCD) or #name, got %q", ch.Slack)
		}
	}

	// calendar, inspections, backups, digest
	if _, err := c.Calendar.Periods(); err != nil {
		add("calendar.working_hours", "%v", err)
	}
	if _, err := calendar.ParsePeriodRule(c.Calendar.PeriodRule); err != nil {
		add("calendar.period_rule", "want next_day or elapsed_hours, got %q", c.Calendar.PeriodRule)
	}
	if c.Inspections.Grace.D() < time.Minute {
		add("inspections.grace", "must be at least 1m, got %s", c.Inspections.Grace)
	}
	if l := c.Inspections.IssueLevel; l < 1 || l > 4 {
		add("inspections.issue_level", "must be 1..4, got %d", l)
	}
	if ch := c.Inspections.Channel; ch != "" && !c.hasChannel(ch) {
		add("inspections.channel", "%q is not one of channels[].name", ch)
	}
	for _, ch := range c.Emergency.ReportPath.Channels {
		if !c.hasChannel(ch) {
			add("emergency.report_path.channels", "%q is not one of channels[].name", ch)
		}
	}
	for _, r := range c.Emergency.ReportPath.Roles {
		if !org.Role(r).Valid() {
			add("emergency.report_path.roles", "must be one of %s, got %q", roleNames(), r)
		}
	}
	if c.Backups.Grace.D() < time.Minute {
		add("backups.grace", "must be at least 1m, got %s", c.Backups.Grace)
	}
	if l := c.Backups.FailLevel; l < 1 || l > 4 {
		add("backups.fail_level", "must be 1..4, got %d", l)
	}
	if d := c.Backups.VerifyDay; d < 1 || d > 28 {
		add("backups.verify_day", "must be 1..28, got %d", d)
	}
	if _, err := time.Parse("15:04", c.Digest.At); err != nil {
		add("digest.at", "want HH:MM, got %q", c.Digest.At)
	}
	if _, err := time.Parse("15:04", c.Reports.At); err != nil {
		add("reports.at", "want HH:MM, got %q", c.Reports.At)
	}
	if c.Reports.ActionDays < 1 {
		add("reports.action_days", "want at least 1, got %d", c.Reports.ActionDays)
	}

	// audit
	if c.Audit.Unkeyed && c.Audit.KeyFile != "" {
		add("audit.unkeyed", "cannot be set together with audit.key_file")
	}
	if c.Audit.GenerateKey && c.Audit.KeyFile == "" {
		add("audit.generate_key", "needs audit.key_file (where to write the key)")
	}
	if d := c.Audit.CheckpointEvery.D(); d < time.Minute || d > time.Hour {
		add("audit.checkpoint_every", "must be 1m..1h, got %s", c.Audit.CheckpointEvery)
	}
	if c.Audit.Retention.D() < MinAuditRetention {
		add("audit.retention", "must be at least %s (six months), got %s", Duration(MinAuditRetention), c.Audit.Retention)
	}

	// incidents
	if _, err := c.Incidents.Policy(); err != nil {
		add("incidents.escalation", "%v", err)
	}
	if ch := c.Incidents.Channel; ch != "" && !c.hasChannel(ch) {
		add("incidents.channel", "%q is not one of channels[].name", ch)
	}

	// alerts
	for i, r := range c.Alerts.Receivers {
		key := fmt.Sprintf("alerts.receivers[%d]", i)
		if r.Name == "" {
			add(key+".name", "required")
		}
		// Both a value and its *_file are refused when the file is read
		// (applyFiles); here the value has been read from the file.
		if r.BearerToken == "" && r.BearerTokenFile == "" && r.Username == "" {
			add(key, "needs bearer_token(_file) or username and password(_file)")
		}
	}
	for lvl, n := range c.Alerts.SeverityLevels {
		if n < 1 || n > 4 {
			add("alerts.severity_levels."+lvl, "must be 1 to 4, got %d", n)
		}
	}
	for label, expr := range c.Alerts.Slow {
		if _, err := regexp.Compile("^(?:" + expr + ")$"); err != nil {
			add("alerts.slow."+label, "is not a regular expression: %v", err)
		}
	}
	if c.Alerts.SlowAfter < 0 {
		add("alerts.slow_after", "must not be negative")
	}
	for i, r := range c.Alerts.Routes {
		if r.Channel != "" && !c.hasChannel(r.Channel) {
			add(fmt.Sprintf("alerts.routes[%d].channel", i), "%q is not one of channels[].name", r.Channel)
		}
	}
	if u := c.Alerts.AlertmanagerURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		add("alerts.alertmanager_url", "must be an http(s) URL")
	}

	// log
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", `must be "debug", "info", "warn" or "error", got %q`, c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		add("log.format", `must be "text" or "json", got %q`, c.Log.Format)
	}

	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// validateServerDeploy checks the production keys of server: the TLS pair,
// trusted proxies, and dev mode only on loopback unless forced.
func (c *Config) validateServerDeploy(add adder) {
	s := c.Server
	switch {
	case s.TLSCert != "" && s.TLSKey == "":
		add("server.tls_key", "required when server.tls_cert is set")
	case s.TLSKey != "" && s.TLSCert == "":
		add("server.tls_cert", "required when server.tls_key is set")
	}
	for _, f := range []struct{ path, name string }{{"server.tls_cert", s.TLSCert}, {"server.tls_key", s.TLSKey}} {
		if f.name == "" {
			continue
		}
		if _, err := os.Stat(f.name); err != nil {
			add(f.path, "cannot read %s: %v", f.name, err)
		}
	}
	for i, p := range s.TrustedProxies {
		if _, err := parseNet(p); err != nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%v", err)
		}
	}
	if c.Webchat.DevMode && !s.AllowDevOnNetwork && s.Listen != "" && !isLoopbackListen(s.Listen) {
		add("webchat.dev_mode", "refused: server.listen %q is not a loopback address and dev mode lets anyone act as any user; "+
			"listen on 127.0.0.1, turn dev_mode off, or set server.allow_dev_on_network: true", s.Listen)
	}
}

// validateAuth checks the auth section.
func (c *Config) validateAuth(add adder) {
	a := c.Auth
	if d := a.SessionIdle.D(); d < 5*time.Minute || d > 30*24*time.Hour {
		add("auth.session_idle", "must be 5m..720h, got %s", a.SessionIdle)
	}
	if d := a.SessionAbsolute.D(); d < a.SessionIdle.D() || d > 90*24*time.Hour {
		add("auth.session_absolute", "must be at least auth.session_idle (%s) and at most 2160h, got %s", a.SessionIdle, a.SessionAbsolute)
	}
	if n := a.LoginAttemptsPerMinute; n < 1 || n > 1000 {
		add("auth.login_attempts_per_minute", "must be 1..1000, got %d", n)
	}
	if u := a.RedirectBase; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		add("auth.redirect_base", "must be an http(s) URL, got %q", u)
	}
	for _, u := range []struct{ path, v string }{{"auth.wecom_authorize_url", a.WeComAuthorizeURL}, {"auth.wecom_sso_url", a.WeComSSOURL}} {
		if !strings.HasPrefix(u.v, "https://") && !strings.HasPrefix(u.v, "http://") {
			add(u.path, "must be an http(s) URL, got %q", u.v)
		}
	}
	o := a.OIDC
	if o.Issuer == "" {
		return
	}
	if !strings.HasPrefix(o.Issuer, "https://") && !strings.HasPrefix(o.Issuer, "http://") {
		add("auth.oidc.issuer", "must be an http(s) URL, got %q", o.Issuer)
	}
	checkRequired(add, "auth.oidc.client_id", o.ClientID)
	if u := o.RedirectURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		add("auth.oidc.redirect_url", "must be an http(s) URL, got %q", u)
	}
	switch o.Claim {
	case "userid", "email", "phone":
	default:
		add("auth.oidc.claim", `must be "userid", "email" or "phone", got %q`, o.Claim)
	}
}

// validateRedis checks the redis section per mode.
func (c *Config) validateRedis(add adder) {
	r := c.Redis
	switch r.Mode {
	case "single":
		checkURL(add, "redis.url", r.URL, "redis://", "rediss://")
		return
	case "sentinel":
		checkRequired(add, "redis.master_name", r.MasterName)
	case "cluster":
		if r.DB != 0 {
			add("redis.db", "must be 0 in cluster mode, got %d", r.DB)
		}
	default:
		add("redis.mode", `must be "single", "sentinel" or "cluster", got %q`, r.Mode)
		return
	}
	if r.URL != "" {
		add("redis.url", "only for mode single; in %s mode set redis.addrs", r.Mode)
	}
	if len(r.Addrs) == 0 {
		add("redis.addrs", "required in %s mode (host:port of each %s)", r.Mode, map[string]string{"sentinel": "Sentinel", "cluster": "seed node"}[r.Mode])
	}
	for i, a := range r.Addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			add(fmt.Sprintf("redis.addrs[%d]", i), "must be host:port, got %q", a)
		}
	}
	if r.DB < 0 {
		add("redis.db", "must be >= 0, got %d", r.DB)
	}
	if r.TLSCAFile != "" {
		if _, err := os.Stat(r.TLSCAFile); err != nil {
			add("redis.tls_ca_file", "cannot read %s: %v", r.TLSCAFile, err)
		}
	}
}

// adder records one validation problem.
type adder func(path, format string, args ...any)

// checkRequired reports a blank value.
func checkRequired(add adder, path, v string) {
	if strings.TrimSpace(v) == "" {
		add(path, "required (set %s or %s)", path, envName(path))
	}
}

// checkCode reports a missing value or one that is not an ASCII code.
func checkCode(add adder, path, v, extra string) {
	switch {
	case v == "":
		add(path, "required (set %s or %s)", path, envName(path))
	case !isCode(v, extra):
		add(path, "must match ^[a-z0-9][a-z0-9%s]{0,63}$, got %q", extra, v)
	}
}

// checkURL reports a missing or malformed URL without echoing it, since URLs
// may carry passwords.
func checkURL(add adder, path, v string, schemes ...string) {
	if v == "" {
		add(path, "required (set %s, %s_file or %s)", path, path, envName(path))
		return
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.HasPrefix(v, s)
	}
	if !ok {
		add(path, "must start with %s", strings.Join(schemes, " or "))
		return
	}
	if _, err := url.Parse(v); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, which may hold a password.
		}
		add(path, "invalid URL: %v", err)
	}
}

// isCode reports whether s is 1..64 bytes of [a-z0-9] or extra, starting with
// [a-z0-9].
func isCode(s, extra string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ('a' <= ch && ch <= 'z') || ('0' <= ch && ch <= '9') {
			continue
		}
		if i == 0 || !strings.ContainsRune(extra, rune(ch)) {
			return false
		}
	}
	return true
}

// Redacted returns a deep copy of c that is safe to log: fields tagged
// secret:"true" become "***" and passwords inside secret:"url" fields (user
// info and password query parameters) become "***".
func (c *Config) Redacted() Config {
	var out Config
	redactCopy(reflect.ValueOf(&out).Elem(), reflect.ValueOf(c).Elem(), "")
	return out
}

// redactCopy deep-copies src into dst, redacting strings per secret.
func redactCopy(dst, src reflect.Value, secret string) {
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src)
		for i := 0; i < src.NumField(); i++ {
			if f := src.Type().Field(i); f.IsExported() {
				redactCopy(dst.Field(i), src.Field(i), f.Tag.Get("secret"))
			}
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		redactCopy(p.Elem(), src.Elem(), secret)
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			redactCopy(s.Index(i), src.Index(i), secret)
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			redactCopy(v, it.Value(), secret)
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.String:
		dst.Set(src)
		switch s := src.String(); {
		case s == "":
		case secret == "true":
			dst.SetString("***")
		case secret == "url":
			dst.SetString(redactURL(s))
		}
	default:
		dst.Set(src)
	}
}

// redactURL replaces the password in u's user info and in any query
// parameter whose name contains "password" with "***". An unparsable URL is
// replaced entirely.
func redactURL(s string) string {
	const mark = "REDACTEDxSECRET" // survives URL escaping, unlike "***"
	u, err := url.Parse(s)
	if err != nil {
		return "***"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), mark)
		}
	}
	if u.RawQuery != "" {
		q, changed := u.Query(), false
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q[k], changed = []string{mark}, true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return strings.ReplaceAll(u.String(), mark, "***")
}

// validateAPI checks api (tokens, service users) and the service users of
// webchat.token.
func (c *Config) validateAPI(add adder) {
	t := c.API.Tokens
	if t.MaxTTL.D() < time.Hour {
		add("api.tokens.max_ttl", "must be at least 1h, got %s", t.MaxTTL)
	}
	if t.DefaultTTL.D() < time.Hour || t.DefaultTTL > t.MaxTTL {
		add("api.tokens.default_ttl", "must be between 1h and api.tokens.max_ttl (%s), got %s", t.MaxTTL, t.DefaultTTL)
	}
	if t.RatePerMinute < 1 || t.RatePerMinute > 60000 {
		add("api.tokens.rate_per_minute", "must be between 1 and 60000, got %d", t.RatePerMinute)
	}
	if t.Burst < 1 || t.Burst > t.RatePerMinute {
		add("api.tokens.burst", "must be between 1 and api.tokens.rate_per_minute (%d), got %d", t.RatePerMinute, t.Burst)
	}
	checkRoles := func(p string, roles []ServiceRole) {
		for j, r := range roles {
			if !org.Role(r.Role).Valid() {
				add(fmt.Sprintf("%s[%d].role", p, j), "must be one of %s, got %q", roleNames(), r.Role)
			}
			if r.Scope != "" && !isCode(r.Scope, "_.-") {
				add(fmt.Sprintf("%s[%d].scope", p, j), "must be a unit or app code, got %q", r.Scope)
			}
		}
	}
	seen := map[string]string{c.Bootstrap.Admin.User: "bootstrap.admin.user"}
	if c.Backups.Token != "" {
		seen[BackupServiceUser] = "the service user of backups.token"
	}
	if c.Webchat.Token != "" && c.Webchat.ServiceUser != "" {
		checkCode(add, "webchat.service_user", c.Webchat.ServiceUser, "_.-")
		if first, dup := seen[c.Webchat.ServiceUser]; dup {
			add("webchat.service_user", "%q is already %s", c.Webchat.ServiceUser, first)
		}
		seen[c.Webchat.ServiceUser] = "webchat.service_user"
		checkRoles("webchat.service_roles", c.Webchat.ServiceRoles)
	}
	for i, u := range c.API.ServiceUsers {
		p := fmt.Sprintf("api.service_users[%d]", i)
		checkCode(add, p+".id", u.ID, "_.-")
		if first, dup := seen[u.ID]; dup && u.ID != "" {
			add(p+".id", "%q is already %s", u.ID, first)
		}
		seen[u.ID] = p + ".id"
		checkRequired(add, p+".name", u.Name)
		if u.Unit != "" && !isCode(u.Unit, "_.-") {
			add(p+".unit", "must be a unit code, got %q", u.Unit)
		}
		checkRoles(p+".roles", u.Roles)
		if u.Token != "" && u.TokenSHA256 != "" {
			add(p+".token_sha256", "set either token (or token_file) or token_sha256, not both")
		}
		if h := u.TokenSHA256; h != "" && !sha256Hex.MatchString(h) {
			add(p+".token_sha256", "must be 64 hex digits, got %d characters", len(h))
		}
		if u.Token != "" && len(u.Token) < 20 {
			add(p+".token", "must be at least 20 characters (use /token service create, or a long random string)")
		}
		if u.Scope != "" && u.Scope != "read" && u.Scope != "write" {
			add(p+".scope", `must be "read" or "write", got %q`, u.Scope)
		}
	}
}

var sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// BackupServiceUser is the service user backups.token acts as (an operator).
const BackupServiceUser = "svc-backup"
