package configs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"opsbot/core/calendar"
)

// requiredYAML sets the required keys except the database and redis sections.
const requiredYAML = `
bootstrap:
  admin:
    user: admin
    name: Admin
    unit: city
    unit_name: City
`

// minimalYAML is the smallest valid config.
const minimalYAML = requiredYAML + `
database:
  url: postgres://u:pw@db:5432/opsbot
redis:
  url: redis://127.0.0.1:6379/0
`

// writeFile writes content to name in a new temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// loadYAML writes content to a temp file and loads it with environ.
func loadYAML(t *testing.T, content string, environ []string) (*Config, error) {
	t.Helper()
	return Load(writeFile(t, "opsbot.yaml", content), environ)
}

// validConfig returns the loaded minimal config.
func validConfig(t *testing.T) *Config {
	t.Helper()
	c, err := loadYAML(t, minimalYAML, nil)
	require.NoError(t, err)
	return c
}

// problems returns the validation problems of err, failing if err is not a
// *ValidationError.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	return ve.Problems
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	on := true
	want := &Config{
		Server: Server{Listen: "127.0.0.1:8080", ShutdownTimeout: Duration(10 * time.Second), MaxBodyBytes: 1 << 20},
		Database: Database{URL: "postgres://u:pw@db:5432/opsbot", MaxConns: 10, MigrateOnStart: &on,
			StatementTimeout: Duration(30 * time.Second)},
		Redis: Redis{Mode: "single", URL: "redis://127.0.0.1:6379/0"},
		Bot:   Bot{Language: "zh-CN", Timezone: "Asia/Shanghai"},
		Bootstrap: Bootstrap{Admin: BootstrapAdmin{
			User: "admin", Name: "Admin", Unit: "city", UnitName: "City",
		}},
		Delivery: Delivery{
			Platforms: []string{"webchat"}, MaxAttempts: 25,
			RetryBase: Duration(2 * time.Second), RetryMax: Duration(10 * time.Minute),
		},
		Worker:    Worker{Concurrency: 10, Queue: "opsbot"},
		Scheduler: Scheduler{SweepInterval: Duration(10 * time.Second)},
		Approvals: Approvals{RemindEvery: Duration(4 * time.Hour), Daytime: "08:30-18:00"},
		Incidents: Incidents{
			Escalation: IncidentLevels{
				Level1: "primary; 5m0s secondary; 10m0s unit_admin; 15m0s district_admin,sys_admin",
				Level2: "primary; 5m0s secondary; 15m0s unit_admin; 30m0s district_admin,sys_admin",
				Level3: "primary; 15m0s secondary; 30m0s unit_admin",
				Level4: "primary; 30m0s secondary",
			},
			Progress:       ProgressLevels{Level1: Duration(30 * time.Minute), Level2: Duration(time.Hour), Level3: Duration(2 * time.Hour), Level4: Duration(4 * time.Hour)},
			ProblemDueDays: 10,
		},
		Alerts: Alerts{MaxBodyBytes: 1 << 20, SeverityLevels: map[string]int{"critical": 2, "warning": 3, "info": 4}, LevelLabel: "level",
			ReopenWindow: Duration(30 * time.Minute), UpdateEvery: Duration(30 * time.Second), HTTPKindLabel: "kind",
			HTTPKindValue: "http_status", AppLabel: "app", Non200After: Duration(10 * time.Minute),
			Slow: map[string]string{"alertname": "SlowResponse|HighLatency|AppSlowResponse", "kind": "slow|slow_response"}},
		Webchat: Webchat{SessionTTL: Duration(720 * time.Hour), ServiceUser: "svc-webchat"},
		Console: Console{Refresh: Duration(15 * time.Second)},
		API: API{Tokens: APITokens{DefaultTTL: Duration(90 * 24 * time.Hour), MaxTTL: Duration(365 * 24 * time.Hour),
			RatePerMinute: 600, Burst: 60}},
		Auth: Auth{SessionIdle: Duration(8 * time.Hour), SessionAbsolute: Duration(7 * 24 * time.Hour), LoginAttemptsPerMinute: 10,
			WeComAuthorizeURL: "https://open.weixin.qq.com/connect/oauth2/authorize", WeComSSOURL: "https://login.work.weixin.qq.com/wwlogin/sso/login",
			OIDC: OIDC{Claim: "userid"}},
		Calendar:    Calendar{WorkingHours: "08:30-12:00,14:00-17:30", PeriodRule: "next_day"},
		Inspections: Inspections{Grace: Duration(2 * time.Hour), IssueLevel: 3},
		Backups:     Backups{Grace: Duration(time.Hour), FailLevel: 3, VerifyDay: 25, Lead: "sys_admin"},
		Audit:       Audit{CheckpointEvery: Duration(time.Hour), Retention: Duration(MinAuditRetention)},
		Digest:      Digest{At: "09:00"},
		Reports:     Reports{At: "09:00", ActionDays: 10},
		WeCom:       WeCom{APIBase: "https://qyapi.weixin.qq.com", Limits: WeComLimits{PerMemberMinute: 30, PerMemberHour: 1000, RobotPerMinute: 20}, CallbackWindow: Duration(5 * time.Minute)},
		Log:         Log{Level: "info", Format: "json"}, // not dev mode: JSON logs
	}
	tests := []struct {
		name string
		yaml string
	}{
		{name: "omitted keys", yaml: minimalYAML},
		{name: "explicit zero values", yaml: minimalYAML + `
server: {listen: "", shutdown_timeout: 0s, max_body_bytes: 0}
bot: {language: "", timezone: ""}
delivery: {platforms: [], max_attempts: 0, retry_base: "0s"}
worker: {concurrency: 0, queue: ""}
log: {level: "", format: ""}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadYAML(t, tt.yaml, nil)
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.True(t, got.Database.MigrateOnStartOr())
		})
	}
}

func TestLoadEmptyFile(t *testing.T) {
	t.Parallel()
	want := []string{
		"database.url: required (set database.url, database.url_file or OPSBOT_DATABASE_URL)",
		"redis.url: required (set redis.url, redis.url_file or OPSBOT_REDIS_URL)",
		"bootstrap.admin.user: required (set bootstrap.admin.user or OPSBOT_BOOTSTRAP_ADMIN_USER)",
		"bootstrap.admin.name: required (set bootstrap.admin.name or OPSBOT_BOOTSTRAP_ADMIN_NAME)",
		"bootstrap.admin.unit: required (set bootstrap.admin.unit or OPSBOT_BOOTSTRAP_ADMIN_UNIT)",
		"bootstrap.admin.unit_name: required (set bootstrap.admin.unit_name or OPSBOT_BOOTSTRAP_ADMIN_UNIT_NAME)",
	}
	tests := []struct {
		name string
		yaml string
	}{
		{name: "empty", yaml: ""},
		{name: "comments only", yaml: "# nothing here\n"},
		{name: "empty document", yaml: "---\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, tt.yaml, nil)
			require.Equal(t, want, problems(t, err))
			require.Equal(t, "config: "+strings.Join(want, "\n"), err.Error())
		})
	}
}

func TestLoadDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
	}{
		{
			name:    "unknown top-level key",
			yaml:    "servr:\n  listen: :80\n",
			wantErr: []string{"line 1", "field servr not found"},
		},
		{
			name:    "unknown nested key",
			yaml:    "server:\n  listen: :80\n  listn: :81\n",
			wantErr: []string{"line 3", "field listn not found"},
		},
		{
			name:    "unknown key in channel",
			yaml:    "channels:\n  - name: ops\n    memebers: [a]\n",
			wantErr: []string{"line 3", "field memebers not found"},
		},
		{
			name:    "bad duration",
			yaml:    "scheduler:\n  sweep_interval: soon\n",
			wantErr: []string{"line 2", `cannot decode "soon" as a duration`},
		},
		{
			name:    "duration as mapping",
			yaml:    "scheduler:\n  sweep_interval: {s: 1}\n",
			wantErr: []string{"line 2", "want a duration"},
		},
		{
			name:    "wrong type",
			yaml:    "database:\n  max_conns: many\n",
			wantErr: []string{"line 2", "cannot unmarshal"},
		},
		{
			name:    "two documents",
			yaml:    minimalYAML + "---\nserver: {}\n",
			wantErr: []string{"only one YAML document"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, tt.yaml, nil)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "config: "), err.Error())
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(missing, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, missing)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // the expected problem; "" means valid
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "listen missing", mutate: func(c *Config) { c.Server.Listen = "" },
			want: "server.listen: required (set server.listen or OPSBOT_SERVER_LISTEN)"},
		{name: "listen without port", mutate: func(c *Config) { c.Server.Listen = "localhost" },
			want: `server.listen: must be host:port, got "localhost"`},
		{name: "listen named port", mutate: func(c *Config) { c.Server.Listen = "localhost:http" },
			want: `server.listen: must be host:port with a numeric port 0-65535, got "localhost:http"`},
		{name: "listen any host", mutate: func(c *Config) { c.Server.Listen = ":8080" }},
		{name: "shutdown timeout negative", mutate: func(c *Config) { c.Server.ShutdownTimeout = Duration(-time.Second) },
			want: "server.shutdown_timeout: must be positive, got -1s"},
		{name: "max body bytes zero", mutate: func(c *Config) { c.Server.MaxBodyBytes = 0 },
			want: "server.max_body_bytes: must be positive, got 0"},
		{name: "alerts max in flight negative", mutate: func(c *Config) { c.Alerts.MaxInFlight = -1 },
			want: "alerts.max_in_flight: must be 0 (sized for the machine) or positive, got -1"},
		{name: "statement timeout negative", mutate: func(c *Config) { c.Database.StatementTimeout = Duration(-time.Second) },
			want: "database.statement_timeout: must be between 1s and 1h, got -1s"},
		{name: "statement timeout too short", mutate: func(c *Config) { c.Database.StatementTimeout = Duration(time.Millisecond) },
			want: "database.statement_timeout: must be between 1s and 1h, got 1ms"},
		{name: "database url missing", mutate: func(c *Config) { c.Database.URL = "" },
			want: "database.url: required (set database.url, database.url_file or OPSBOT_DATABASE_URL)"},
		{name: "database url scheme", mutate: func(c *Config) { c.Database.URL = "mysql://u:pw@h/db" },
			want: "database.url: must start with postgres:// or postgresql://"},
		{name: "database url postgresql scheme", mutate: func(c *Config) { c.Database.URL = "postgresql://h/db" }},
		{name: "database url malformed hides password", mutate: func(c *Config) { c.Database.URL = "postgres://u:topsecret@h:abc/db" },
			want: `database.url: invalid URL: invalid port ":abc" after host`},
		{name: "max conns zero", mutate: func(c *Config) { c.Database.MaxConns = 0 },
			want: "database.max_conns: must be between 1 and 1000, got 0"},
		{name: "max conns too many", mutate: func(c *Config) { c.Database.MaxConns = 1001 },
			want: "database.max_conns: must be between 1 and 1000, got 1001"},
		{name: "redis url missing", mutate: func(c *Config) { c.Redis.URL = "" },
			want: "redis.url: required (set redis.url, redis.url_file or OPSBOT_REDIS_URL)"},
		{name: "redis url scheme", mutate: func(c *Config) { c.Redis.URL = "http://h:6379" },
			want: "redis.url: must start with redis:// or rediss://"},
		{name: "redis tls", mutate: func(c *Config) { c.Redis.URL = "rediss://:pw@h:6380/1" }},
		{name: "language", mutate: func(c *Config) { c.Bot.Language = "fr" },
			want: `bot.language: must be "zh-CN" or "en", got "fr"`},
		{name: "language en", mutate: func(c *Config) { c.Bot.Language = "en" }},
		{name: "timezone unknown", mutate: func(c *Config) { c.Bot.Timezone = "Mars/Olympus" },
			want: `bot.timezone: unknown time zone "Mars/Olympus"`},
		{name: "timezone missing", mutate: func(c *Config) { c.Bot.Timezone = "" },
			want: "bot.timezone: required (set bot.timezone or OPSBOT_BOT_TIMEZONE)"},
		{name: "admin user missing", mutate: func(c *Config) { c.Bootstrap.Admin.User = "" },
			want: "bootstrap.admin.user: required (set bootstrap.admin.user or OPSBOT_BOOTSTRAP_ADMIN_USER)"},
		{name: "admin user upper case", mutate: func(c *Config) { c.Bootstrap.Admin.User = "Admin" },
			want: `bootstrap.admin.user: must match ^[a-z0-9][a-z0-9_.-]{0,63}$, got "Admin"`},
		{name: "admin user leading dash", mutate: func(c *Config) { c.Bootstrap.Admin.User = "-admin" },
			want: `bootstrap.admin.user: must match ^[a-z0-9][a-z0-9_.-]{0,63}$, got "-admin"`},
		{name: "admin user too long", mutate: func(c *Config) { c.Bootstrap.Admin.User = strings.Repeat("a", 65) },
			want: fmt.Sprintf(`bootstrap.admin.user: must match ^[a-z0-9][a-z0-9_.-]{0,63}$, got %q`, strings.Repeat("a", 65))},
		{name: "admin user max length and punctuation", mutate: func(c *Config) { c.Bootstrap.Admin.User = "a.b_c-" + strings.Repeat("d", 58) }},
		{name: "admin name blank", mutate: func(c *Config) { c.Bootstrap.Admin.Name = "  " },
			want: "bootstrap.admin.name: required (set bootstrap.admin.name or OPSBOT_BOOTSTRAP_ADMIN_NAME)"},
		{name: "admin unit not ascii", mutate: func(c *Config) { c.Bootstrap.Admin.Unit = "示范市" },
			want: `bootstrap.admin.unit: must match ^[a-z0-9][a-z0-9_.-]{0,63}$, got "示范市"`},
		{name: "admin unit name missing", mutate: func(c *Config) { c.Bootstrap.Admin.UnitName = "" },
			want: "bootstrap.admin.unit_name: required (set bootstrap.admin.unit_name or OPSBOT_BOOTSTRAP_ADMIN_UNIT_NAME)"},
		{name: "webchat without token (personal sign-in links)", mutate: func(c *Config) { c.Webchat.Enabled = true }},
		{name: "webchat dev mode without token", mutate: func(c *Config) { c.Webchat = Webchat{Enabled: true, DevMode: true, SessionTTL: Duration(time.Hour)} }},
		{name: "webchat with token", mutate: func(c *Config) { c.Webchat = Webchat{Enabled: true, Token: "t", SessionTTL: Duration(time.Hour)} }},
		{name: "webchat public url", mutate: func(c *Config) { c.Webchat.PublicURL = "opsbot.gov.cn" },
			want: `webchat.public_url: must be an http(s) URL, got "opsbot.gov.cn"`},
		{name: "webchat session ttl", mutate: func(c *Config) { c.Webchat.SessionTTL = Duration(time.Second) },
			want: "webchat.session_ttl: must be at least 1m, got 1s"},
		{name: "auth session idle", mutate: func(c *Config) { c.Auth.SessionIdle = Duration(time.Minute) },
			want: "auth.session_idle: must be 5m..720h, got 1m0s"},
		{name: "auth absolute shorter than idle", mutate: func(c *Config) { c.Auth.SessionAbsolute = Duration(time.Hour) },
			want: "auth.session_absolute: must be at least auth.session_idle (8h0m0s) and at most 2160h, got 1h0m0s"},
		{name: "auth login attempts", mutate: func(c *Config) { c.Auth.LoginAttemptsPerMinute = 0 },
			want: "auth.login_attempts_per_minute: must be 1..1000, got 0"},
		{name: "auth oidc claim", mutate: func(c *Config) { c.Auth.OIDC = OIDC{Issuer: "https://sso", ClientID: "c", Claim: "name"} },
			want: `auth.oidc.claim: must be "userid", "email" or "phone", got "name"`},
		{name: "auth oidc client id", mutate: func(c *Config) { c.Auth.OIDC = OIDC{Issuer: "https://sso", Claim: "email"} },
			want: "auth.oidc.client_id: required (set auth.oidc.client_id or OPSBOT_AUTH_OIDC_CLIENT_ID)"},
		{name: "auth oidc ok", mutate: func(c *Config) { c.Auth.OIDC = OIDC{Issuer: "https://sso", ClientID: "c", Claim: "phone"} }},
		{name: "channel name missing", mutate: func(c *Config) { c.Channels = []Channel{{Members: []string{"a"}}} },
			want: "channels[0].name: required"},
		{name: "channel name invalid", mutate: func(c *Config) { c.Channels = []Channel{{Name: "Ops"}} },
			want: `channels[0].name: must match ^[a-z0-9][a-z0-9_-]{0,63}$, got "Ops"`},
		{name: "channel name with dot", mutate: func(c *Config) { c.Channels = []Channel{{Name: "ops.x"}} },
			want: `channels[0].name: must match ^[a-z0-9][a-z0-9_-]{0,63}$, got "ops.x"`},
		{name: "channel duplicate", mutate: func(c *Config) { c.Channels = []Channel{{Name: "ops"}, {Name: "ops"}} },
			want: `channels[1].name: duplicate "ops" (first at channels[0])`},
		{name: "channel member invalid", mutate: func(c *Config) { c.Channels = []Channel{{Name: "ops", Members: []string{"admin", "Bob"}}} },
			want: `channels[0].members[1]: must be a user id matching ^[a-z0-9][a-z0-9_.-]{0,63}$, got "Bob"`},
		{name: "channel member duplicate", mutate: func(c *Config) { c.Channels = []Channel{{Name: "ops", Members: []string{"admin", "admin"}}} },
			want: `channels[0].members[1]: duplicate "admin"`},
		{name: "channel role unknown", mutate: func(c *Config) { c.Channels = []Channel{{Name: "ops", Roles: []string{"operator", "boss"}}} },
			want: `channels[0].roles[1]: must be one of sys_admin, district_admin, unit_admin, unit_contact, operator, access_party, got "boss"`},
		{name: "platform unknown", mutate: func(c *Config) { c.Delivery.Platforms = []string{"webchat", "email"} },
			want: `delivery.platforms[1]: must be "webchat", "wecom" or "slack", got "email"`},
		{name: "platform duplicate", mutate: func(c *Config) { c.Delivery.Platforms = []string{"slack", "wecom", "slack"} },
			want: `delivery.platforms[2]: duplicate "slack"`},
		{name: "wecom callback window over the dedupe hour", mutate: func(c *Config) {
			c.WeCom = WeCom{Enabled: true, CorpID: "ww1", AgentID: 1000002, Secret: "s", Token: "t", EncodingAESKey: strings.Repeat("k", 43),
				APIBase: "https://qyapi.weixin.qq.com", Limits: WeComLimits{PerMemberMinute: 30, PerMemberHour: 1000, RobotPerMinute: 20},
				CallbackWindow: Duration(2 * time.Hour)}
		}, want: "wecom.callback_window: must be between 1s and 1h (callback ids are remembered for 1h), got 2h0m0s"},
		{name: "platforms empty", mutate: func(c *Config) { c.Delivery.Platforms = nil },
			want: "delivery.platforms: must list at least one platform"},
		{name: "max attempts zero", mutate: func(c *Config) { c.Delivery.MaxAttempts = 0 },
			want: "delivery.max_attempts: must be at least 1, got 0"},
		{name: "retry base zero", mutate: func(c *Config) { c.Delivery.RetryBase = 0 },
			want: "delivery.retry_base: must be positive, got 0s"},
		{name: "retry max below base", mutate: func(c *Config) { c.Delivery.RetryMax = Duration(time.Second) },
			want: "delivery.retry_max: must be >= delivery.retry_base (2s), got 1s"},
		{name: "retry max equals base", mutate: func(c *Config) { c.Delivery.RetryMax = c.Delivery.RetryBase }},
		{name: "concurrency zero", mutate: func(c *Config) { c.Worker.Concurrency = 0 },
			want: "worker.concurrency: must be between 1 and 1000, got 0"},
		{name: "concurrency too high", mutate: func(c *Config) { c.Worker.Concurrency = 1001 },
			want: "worker.concurrency: must be between 1 and 1000, got 1001"},
		{name: "queue missing", mutate: func(c *Config) { c.Worker.Queue = "" },
			want: "worker.queue: required (set worker.queue or OPSBOT_WORKER_QUEUE)"},
		{name: "sweep interval too short", mutate: func(c *Config) { c.Scheduler.SweepInterval = Duration(500 * time.Millisecond) },
			want: "scheduler.sweep_interval: must be at least 1s, got 500ms"},
		{name: "sweep interval one second", mutate: func(c *Config) { c.Scheduler.SweepInterval = Duration(time.Second) }},
		{name: "log level", mutate: func(c *Config) { c.Log.Level = "trace" },
			want: `log.level: must be "debug", "info", "warn" or "error", got "trace"`},
		{name: "log format", mutate: func(c *Config) { c.Log.Format = "xml" },
			want: `log.format: must be "text" or "json", got "xml"`},
		{name: "service user", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-ci", Name: "CI", Roles: []ServiceRole{{Role: "operator"}},
				TokenSHA256: strings.Repeat("ab", 32), Scope: "read"}}
		}},
		{name: "service user role", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-ci", Name: "CI", Roles: []ServiceRole{{Role: "god"}}}}
		}, want: `api.service_users[0].roles[0].role: must be one of sys_admin, district_admin, unit_admin, unit_contact, operator, access_party, got "god"`},
		{name: "service user id taken", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: c.Bootstrap.Admin.User, Name: "CI"}}
		}, want: `api.service_users[0].id: "admin" is already bootstrap.admin.user`},
		{name: "service user token and hash", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-ci", Name: "CI", Token: strings.Repeat("x", 20), TokenSHA256: strings.Repeat("ab", 32)}}
		}, want: "api.service_users[0].token_sha256: set either token (or token_file) or token_sha256, not both"},
		{name: "service user short token", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-ci", Name: "CI", Token: "short"}}
		}, want: "api.service_users[0].token: must be at least 20 characters (use /token service create, or a long random string)"},
		{name: "service user bad hash", mutate: func(c *Config) {
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-ci", Name: "CI", TokenSHA256: "abc"}}
		}, want: "api.service_users[0].token_sha256: must be 64 hex digits, got 3 characters"},
		{name: "webchat service user is the admin", mutate: func(c *Config) { c.Webchat.Token, c.Webchat.ServiceUser = "tok", "admin" },
			want: `webchat.service_user: "admin" is already bootstrap.admin.user`},
		{name: "service user of backups.token", mutate: func(c *Config) {
			c.Backups.Token = "tok"
			c.API.ServiceUsers = []ServiceUser{{ID: "svc-backup", Name: "mine"}}
		}, want: `api.service_users[0].id: "svc-backup" is already the service user of backups.token`},
		{name: "token burst above rate", mutate: func(c *Config) { c.API.Tokens.Burst = 601 },
			want: "api.tokens.burst: must be between 1 and api.tokens.rate_per_minute (600), got 601"},
		{name: "token default ttl above max", mutate: func(c *Config) { c.API.Tokens.DefaultTTL = Duration(9000 * time.Hour) },
			want: "api.tokens.default_ttl: must be between 1h and api.tokens.max_ttl (8760h0m0s), got 9000h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig(t)
			tt.mutate(c)
			err := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, []string{tt.want}, problems(t, err))
			require.Equal(t, "config: "+tt.want, err.Error())
			require.NotContains(t, err.Error(), "topsecret")
		})
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "four problems in field order",
			yaml: requiredYAML + "redis: {url: 'redis://r'}\n" + "bot: {language: fr}\nlog: {level: trace}\nchannels: [{name: ops}, {name: ops}]\n",
			want: "config: database.url: required (set database.url, database.url_file or OPSBOT_DATABASE_URL)\n" +
				`bot.language: must be "zh-CN" or "en", got "fr"` + "\n" +
				`channels[1].name: duplicate "ops" (first at channels[0])` + "\n" +
				`log.level: must be "debug", "info", "warn" or "error", got "trace"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, tt.yaml, nil)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		environ []string
		check   func(t *testing.T, c *Config)
	}{
		{
			name:    "string",
			environ: []string{"OPSBOT_SERVER_LISTEN=0.0.0.0:9090", "OPSBOT_DATABASE_URL=postgresql://env@h/db"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "0.0.0.0:9090", c.Server.Listen)
				require.Equal(t, "postgresql://env@h/db", c.Database.URL)
			},
		},
		{
			name:    "nested string",
			environ: []string{"OPSBOT_BOOTSTRAP_ADMIN_USER=root", "OPSBOT_BOT_LANGUAGE=en"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "root", c.Bootstrap.Admin.User)
				require.Equal(t, "en", c.Bot.Language)
			},
		},
		{
			name:    "ints",
			environ: []string{"OPSBOT_WORKER_CONCURRENCY=42", "OPSBOT_DATABASE_MAX_CONNS=7", "OPSBOT_SERVER_MAX_BODY_BYTES=2048"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, 42, c.Worker.Concurrency)
				require.Equal(t, int32(7), c.Database.MaxConns)
				require.Equal(t, int64(2048), c.Server.MaxBodyBytes)
			},
		},
		{
			name:    "bool",
			environ: []string{"OPSBOT_WEBCHAT_ENABLED=true", "OPSBOT_WEBCHAT_DEV_MODE=1", "OPSBOT_DEMO_ENABLED=TRUE"},
			check: func(t *testing.T, c *Config) {
				require.True(t, c.Webchat.Enabled)
				require.True(t, c.Webchat.DevMode)
				require.True(t, c.Demo.Enabled)
			},
		},
		{
			name:    "bool false overrides yaml true",
			yaml:    "webchat: {enabled: true, dev_mode: true}\n",
			environ: []string{"OPSBOT_WEBCHAT_ENABLED=false"},
			check:   func(t *testing.T, c *Config) { require.False(t, c.Webchat.Enabled) },
		},
		{
			name:    "bool pointer",
			environ: []string{"OPSBOT_DATABASE_MIGRATE_ON_START=false"},
			check: func(t *testing.T, c *Config) {
				require.NotNil(t, c.Database.MigrateOnStart)
				require.False(t, c.Database.MigrateOnStartOr())
			},
		},
		{
			name:    "duration",
			environ: []string{"OPSBOT_SERVER_SHUTDOWN_TIMEOUT=1h30m", "OPSBOT_SCHEDULER_SWEEP_INTERVAL=5m"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, 90*time.Minute, c.Server.ShutdownTimeout.D())
				require.Equal(t, 5*time.Minute, c.Scheduler.SweepInterval.D())
			},
		},
		{
			name:    "slice",
			yaml:    "delivery: {platforms: [webchat]}\n",
			environ: []string{"OPSBOT_DELIVERY_PLATFORMS= wecom, slack,,webchat "},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, []string{"wecom", "slack", "webchat"}, c.Delivery.Platforms)
			},
		},
		{
			name:    "last entry wins",
			environ: []string{"OPSBOT_LOG_LEVEL=warn", "OPSBOT_LOG_LEVEL=debug"},
			check:   func(t *testing.T, c *Config) { require.Equal(t, "debug", c.Log.Level) },
		},
		{
			name:    "empty value ignored",
			yaml:    "log: {level: warn}\n",
			environ: []string{"OPSBOT_LOG_LEVEL=", "OPSBOT_WORKER_CONCURRENCY="},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "warn", c.Log.Level)
				require.Equal(t, 10, c.Worker.Concurrency)
			},
		},
		{
			name: "unknown and unrelated variables ignored",
			environ: []string{
				"OPSBOT_CONFIG=/etc/opsbot.yaml", "OPSBOT_NOPE=1", "OPSBOT_CHANNELS=x", "OPSBOT_SERVER=x",
				"LOG_LEVEL=debug", "malformed", "PATH=/bin",
			},
			check: func(t *testing.T, c *Config) { require.Equal(t, validConfig(t), c) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadYAML(t, minimalYAML+tt.yaml, tt.environ)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestEnvOverrideErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		wantErr []string
	}{
		{
			name:    "duration",
			environ: []string{"OPSBOT_SERVER_SHUTDOWN_TIMEOUT=abc"},
			wantErr: []string{`config: OPSBOT_SERVER_SHUTDOWN_TIMEOUT: invalid value "abc" for server.shutdown_timeout`},
		},
		{
			name:    "int",
			environ: []string{"OPSBOT_WORKER_CONCURRENCY=ten"},
			wantErr: []string{`OPSBOT_WORKER_CONCURRENCY: invalid value "ten" for worker.concurrency: want an integer`},
		},
		{
			name:    "int32 overflow",
			environ: []string{"OPSBOT_DATABASE_MAX_CONNS=9999999999"},
			wantErr: []string{"OPSBOT_DATABASE_MAX_CONNS", "out of range"},
		},
		{
			name:    "bool",
			environ: []string{"OPSBOT_DEMO_ENABLED=yes"},
			wantErr: []string{"OPSBOT_DEMO_ENABLED", "want true or false"},
		},
		{
			name:    "all bad variables reported",
			environ: []string{"OPSBOT_WORKER_CONCURRENCY=x", "OPSBOT_DATABASE_MIGRATE_ON_START=maybe"},
			wantErr: []string{"OPSBOT_WORKER_CONCURRENCY", "OPSBOT_DATABASE_MIGRATE_ON_START"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, minimalYAML, tt.environ)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	t.Parallel()
	names := EnvNames()
	tests := []struct {
		name    string
		env     string
		present bool
	}{
		{name: "database url", env: "OPSBOT_DATABASE_URL", present: true},
		{name: "database url file", env: "OPSBOT_DATABASE_URL_FILE", present: true},
		{name: "migrate on start", env: "OPSBOT_DATABASE_MIGRATE_ON_START", present: true},
		{name: "server listen", env: "OPSBOT_SERVER_LISTEN", present: true},
		{name: "bot language", env: "OPSBOT_BOT_LANGUAGE", present: true},
		{name: "bootstrap admin user", env: "OPSBOT_BOOTSTRAP_ADMIN_USER", present: true},
		{name: "webchat dev mode", env: "OPSBOT_WEBCHAT_DEV_MODE", present: true},
		{name: "webchat token file", env: "OPSBOT_WEBCHAT_TOKEN_FILE", present: true},
		{name: "delivery platforms", env: "OPSBOT_DELIVERY_PLATFORMS", present: true},
		{name: "scheduler sweep interval", env: "OPSBOT_SCHEDULER_SWEEP_INTERVAL", present: true},
		{name: "channels not overridable", env: "OPSBOT_CHANNELS"},
		{name: "channel fields not overridable", env: "OPSBOT_CHANNELS_NAME"},
		{name: "sections not overridable", env: "OPSBOT_SERVER"},
		{name: "nested sections not overridable", env: "OPSBOT_BOOTSTRAP_ADMIN"},
		{name: "config path is not a key", env: "OPSBOT_CONFIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.present, contains(names, tt.env))
		})
	}
}

func TestEnvNamesHaveNoCollisions(t *testing.T) {
	t.Parallel()
	var c Config
	leaves := 0
	walkStructs(reflect.ValueOf(&c).Elem(), "", func(_ string, sv reflect.Value) {
		for i := 0; i < sv.NumField(); i++ {
			if sf := sv.Type().Field(i); yamlName(sf) != "" && overridable(sf.Type) {
				leaves++
			}
		}
	})
	require.Len(t, EnvNames(), leaves)
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSecretFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string            // appended to requiredYAML and redisYAML unless it sets redis; {dir} is the temp dir
		files   map[string]string // written into {dir}
		environ []string          // {dir} is the temp dir
		check   func(t *testing.T, c *Config)
		wantErr []string // {dir} is the temp dir
	}{
		{
			name:  "url_file read and trimmed",
			yaml:  "database: {url_file: '{dir}/db'}\n",
			files: map[string]string{"db": "  postgres://u:pw@h/db\n\n"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "postgres://u:pw@h/db", c.Database.URL)
			},
		},
		{
			name:  "redis url_file and webchat token_file",
			yaml:  "database: {url: 'postgres://h/db'}\nredis: {url: '', url_file: '{dir}/redis'}\nwebchat: {enabled: true, token_file: '{dir}/tok'}\n",
			files: map[string]string{"redis": "rediss://:pw@r:6380/0\n", "tok": "s3cret\n"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "rediss://:pw@r:6380/0", c.Redis.URL)
				require.Equal(t, "s3cret", c.Webchat.Token)
			},
		},
		{
			name:    "url and url_file both set",
			yaml:    "database: {url: 'postgres://h/db', url_file: '{dir}/db'}\n",
			files:   map[string]string{"db": "postgres://u:pw@h/db"},
			wantErr: []string{"config: database.url and database.url_file are both set; use only one"},
		},
		{
			name:    "unreadable file names key and path",
			yaml:    "database: {url_file: '{dir}/missing'}\n",
			wantErr: []string{"config: database.url_file: read secret file", "{dir}/missing", "no such file"},
		},
		{
			name:    "empty file",
			yaml:    "database: {url_file: '{dir}/db'}\n",
			files:   map[string]string{"db": " \n"},
			wantErr: []string{`database.url_file: secret file "{dir}/db" is empty`},
		},
		{
			name:    "env url replaces yaml url_file",
			yaml:    "database: {url_file: '{dir}/missing'}\n",
			environ: []string{"OPSBOT_DATABASE_URL=postgres://env@h/db"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "postgres://env@h/db", c.Database.URL)
				require.Empty(t, c.Database.URLFile)
			},
		},
		{
			name:    "env url_file replaces yaml url",
			yaml:    "database: {url: 'postgres://yaml@h/db'}\n",
			files:   map[string]string{"db": "postgres://file@h/db"},
			environ: []string{"OPSBOT_DATABASE_URL_FILE={dir}/db"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "postgres://file@h/db", c.Database.URL)
			},
		},
		{
			name:    "env sets both",
			yaml:    "",
			files:   map[string]string{"db": "postgres://file@h/db"},
			environ: []string{"OPSBOT_DATABASE_URL_FILE={dir}/db", "OPSBOT_DATABASE_URL=postgres://env@h/db"},
			wantErr: []string{"database.url and database.url_file are both set"},
		},
		{
			name:    "all file problems reported",
			yaml:    "database: {url_file: '{dir}/a'}\nredis: {url: 'redis://r', url_file: '{dir}/b'}\n",
			wantErr: []string{"database.url_file", "{dir}/a", "redis.url and redis.url_file are both set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sub := func(s string) string { return strings.ReplaceAll(s, "{dir}", dir) }
			for name, content := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
			}
			var environ []string
			for _, kv := range tt.environ {
				environ = append(environ, sub(kv))
			}
			doc := requiredYAML + sub(tt.yaml)
			if !strings.Contains(tt.yaml, "redis:") {
				doc += "redis: {url: 'redis://r:6379/0'}\n"
			}
			c, err := loadYAML(t, doc, environ)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tt.wantErr {
					require.ErrorContains(t, err, sub(want))
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mutate    func(c *Config)
		check     func(t *testing.T, r Config)
		forbidden string // must not appear anywhere in the redacted copy
	}{
		{
			name:      "database password",
			mutate:    func(c *Config) { c.Database.URL = "postgres://u:secret@h/db" },
			check:     func(t *testing.T, r Config) { require.Equal(t, "postgres://u:***@h/db", r.Database.URL) },
			forbidden: "secret",
		},
		{
			name:   "database password in query",
			mutate: func(c *Config) { c.Database.URL = "postgres://u@h/db?sslmode=disable&password=secret" },
			check: func(t *testing.T, r Config) {
				require.Equal(t, "postgres://u@h/db?password=***&sslmode=disable", r.Database.URL)
			},
			forbidden: "secret",
		},
		{
			name:      "redis password",
			mutate:    func(c *Config) { c.Redis.URL = "rediss://:secret@r:6380/0" },
			check:     func(t *testing.T, r Config) { require.Equal(t, "rediss://:***@r:6380/0", r.Redis.URL) },
			forbidden: "secret",
		},
		{
			name:   "url without password unchanged",
			mutate: func(c *Config) { c.Database.URL = "postgres://u@h:5432/db?sslmode=disable" },
			check: func(t *testing.T, r Config) {
				require.Equal(t, "postgres://u@h:5432/db?sslmode=disable", r.Database.URL)
			},
		},
		{
			name:      "unparsable url replaced",
			mutate:    func(c *Config) { c.Database.URL = "postgres://u:secret@h:bad port/db" },
			check:     func(t *testing.T, r Config) { require.Equal(t, "***", r.Database.URL) },
			forbidden: "secret",
		},
		{
			name: "webchat token",
			mutate: func(c *Config) {
				c.Webchat = Webchat{Enabled: true, Token: "secret", TokenFile: "/run/secrets/tok"}
			},
			check: func(t *testing.T, r Config) {
				require.Equal(t, "***", r.Webchat.Token)
				require.Equal(t, "/run/secrets/tok", r.Webchat.TokenFile)
			},
			forbidden: "secret\"",
		},
		{
			name:   "empty token stays empty",
			mutate: func(c *Config) { c.Webchat.Token = "" },
			check:  func(t *testing.T, r Config) { require.Empty(t, r.Webchat.Token) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig(t)
			tt.mutate(c)
			before := fmt.Sprintf("%#v", *c)
			r := c.Redacted()
			tt.check(t, r)
			if tt.forbidden != "" {
				require.NotContains(t, fmt.Sprintf("%#v", r), tt.forbidden)
			}
			require.Equal(t, before, fmt.Sprintf("%#v", *c), "original modified")
		})
	}
}

func TestRedactedIsDeepCopy(t *testing.T) {
	t.Parallel()
	c, err := Load("", nil)
	require.NoError(t, err)
	r := c.Redacted()
	require.Equal(t, c.Channels, r.Channels)
	r.Channels[0].Members[0] = "changed"
	r.Delivery.Platforms[0] = "changed"
	*r.Database.MigrateOnStart = false
	require.Equal(t, "admin", c.Channels[0].Members[0])
	require.Equal(t, "webchat", c.Delivery.Platforms[0])
	require.True(t, c.Database.MigrateOnStartOr())
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		flag   string
		env    string
		exists bool
		want   string
	}{
		{name: "flag wins", flag: "/etc/a.yaml", env: "/etc/b.yaml", exists: true, want: "/etc/a.yaml"},
		{name: "env when no flag", env: "/etc/b.yaml", exists: true, want: "/etc/b.yaml"},
		{name: "dev file when present", exists: true, want: "configs/dev.yaml"},
		{name: "embedded otherwise", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "OPSBOT_CONFIG" {
					return tt.env
				}
				return ""
			}
			var asked []string
			fileExists := func(p string) bool {
				asked = append(asked, p)
				return tt.exists
			}
			require.Equal(t, tt.want, Resolve(tt.flag, getenv, fileExists))
			if tt.flag == "" && tt.env == "" {
				require.Equal(t, []string{"configs/dev.yaml"}, asked)
			} else {
				require.Empty(t, asked)
			}
		})
	}
}

func TestDevConfig(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile("dev.yaml")
	require.NoError(t, err)
	require.Equal(t, file, DevYAML)

	tests := []struct {
		name    string
		path    string
		environ []string
		dbURL   string
		redis   string
	}{
		{name: "embedded", dbURL: "postgres://postgres@127.0.0.1:5432/opsbot?sslmode=disable", redis: "redis://127.0.0.1:6379/0"},
		{name: "file", path: "dev.yaml", dbURL: "postgres://postgres@127.0.0.1:5432/opsbot?sslmode=disable", redis: "redis://127.0.0.1:6379/0"},
		{
			name:    "makefile overrides",
			environ: []string{"OPSBOT_DATABASE_URL=postgres://postgres:pw@db:5433/opsbot", "OPSBOT_REDIS_URL=redis://cache:6379/1"},
			dbURL:   "postgres://postgres:pw@db:5433/opsbot",
			redis:   "redis://cache:6379/1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.path, tt.environ)
			require.NoError(t, err)
			require.Equal(t, tt.dbURL, c.Database.URL)
			require.Equal(t, tt.redis, c.Redis.URL)
			require.Equal(t, "127.0.0.1:8080", c.Server.Listen)
			require.Equal(t, Bot{Language: "zh-CN", Timezone: "Asia/Shanghai"}, c.Bot)
			require.Equal(t, BootstrapAdmin{User: "admin", Name: "系统管理员", Unit: "city", UnitName: "示范市"}, c.Bootstrap.Admin)
			require.True(t, c.Demo.Enabled)
			require.Equal(t, Webchat{Enabled: true, DevMode: true, SessionTTL: Duration(720 * time.Hour), ServiceUser: "svc-webchat"}, c.Webchat)
			require.Equal(t, []Channel{
				{Name: "ops", Members: []string{"admin", "sunli", "zhoujie", "liqiang", "wangfang"}},
				{Name: "incidents", Members: []string{"admin", "sunli", "zhoujie"}},
			}, c.Channels)
			require.Equal(t, []string{"webchat"}, c.Delivery.Platforms)
			require.Equal(t, Log{Level: "info", Format: "text"}, c.Log)
		})
	}
}

func TestExampleConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ func(dir string) []string
		dbURL   string
	}{
		{
			name: "secrets from files",
			environ: func(dir string) []string {
				return []string{
					"OPSBOT_DATABASE_URL_FILE=" + filepath.Join(dir, "db"),
					"OPSBOT_REDIS_URL_FILE=" + filepath.Join(dir, "redis"),
					"OPSBOT_WEBCHAT_TOKEN_FILE=" + filepath.Join(dir, "token"),
					"OPSBOT_WECOM_SECRET_FILE=" + filepath.Join(dir, "token"),
					"OPSBOT_WECOM_TOKEN_FILE=" + filepath.Join(dir, "token"),
					"OPSBOT_WECOM_ENCODING_AES_KEY_FILE=" + filepath.Join(dir, "aes"),
					"OPSBOT_AUTH_OIDC_CLIENT_SECRET_FILE=" + filepath.Join(dir, "token"),
				}
			},
			dbURL: "postgres://opsbot:pw@db.internal:5432/opsbot?sslmode=verify-full",
		},
		{
			name: "secrets from environment",
			environ: func(string) []string {
				return []string{
					"OPSBOT_DATABASE_URL=postgres://opsbot:env@db/opsbot",
					"OPSBOT_REDIS_URL=redis://r:6379/0",
					"OPSBOT_WEBCHAT_TOKEN=tok",
					"OPSBOT_WECOM_SECRET=s", "OPSBOT_WECOM_TOKEN=t",
					"OPSBOT_WECOM_ENCODING_AES_KEY=" + strings.Repeat("k", 43),
					"OPSBOT_AUTH_OIDC_CLIENT_SECRET=tok",
				}
			},
			dbURL: "postgres://opsbot:env@db/opsbot",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range map[string]string{
				"db":    "postgres://opsbot:pw@db.internal:5432/opsbot?sslmode=verify-full\n",
				"redis": "rediss://:pw@redis.internal:6380/0\n",
				"token": "tok\n",
				"aes":   strings.Repeat("a", 43) + "\n",
			} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
			}
			c, err := Load("opsbot.example.yaml", tt.environ(dir))
			require.NoError(t, err)
			require.Equal(t, tt.dbURL, c.Database.URL)
			require.Equal(t, "tok", c.Webchat.Token)
			require.Equal(t, "tok", c.Auth.OIDC.ClientSecret)
			require.True(t, c.Webchat.Enabled)
			require.False(t, c.Webchat.DevMode)
			require.False(t, c.Demo.Enabled)
			require.Equal(t, "json", c.Log.Format)
		})
	}
}

func TestExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("opsbot.example.yaml")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	documented := map[string]bool{}
	collectDocumented(doc.Content[0], "", documented)

	tests := []struct {
		name string
		path string
	}{}
	for _, p := range yamlPaths(reflect.TypeFor[Config](), "") {
		tests = append(tests, struct {
			name string
			path string
		}{name: p, path: p})
	}
	for _, name := range EnvNames() {
		tests = append(tests, struct {
			name string
			path string
		}{name: name, path: name})
	}
	require.NotEmpty(t, tests)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(tt.path, EnvPrefix) {
				require.Contains(t, string(data), tt.path, "env variable not documented")
				return
			}
			require.True(t, documented[tt.path], "key %s missing or without a comment", tt.path)
		})
	}
}

// collectDocumented records the paths of keys under n that carry a comment.
func collectDocumented(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(prefix, k.Value)
			if k.HeadComment != "" || k.LineComment != "" || v.LineComment != "" {
				out[p] = true
			}
			collectDocumented(v, p, out)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			collectDocumented(item, prefix+"[]", out)
		}
	}
}

// yamlPaths lists the yaml paths of every field under t; elements of slices
// of structs appear as "name[].field".
func yamlPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := yamlName(sf)
		if name == "" {
			continue
		}
		p := joinPath(prefix, name)
		out = append(out, p)
		ft := sf.Type
		switch {
		case ft.Kind() == reflect.Struct && !isTextUnmarshaler(ft):
			out = append(out, yamlPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, yamlPaths(ft.Elem(), p+"[]")...)
		}
	}
	return out
}

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{name: "seconds", yaml: "d: 10s", want: 10 * time.Second},
		{name: "minutes", yaml: "d: 5m", want: 5 * time.Minute},
		{name: "compound", yaml: "d: 1h30m", want: 90 * time.Minute},
		{name: "quoted", yaml: `d: "250ms"`, want: 250 * time.Millisecond},
		{name: "zero", yaml: "d: 0", want: 0},
		{name: "bare number", yaml: "d: 10", wantErr: `line 1: cannot decode "10" as a duration`},
		{name: "garbage", yaml: "d: soon", wantErr: `line 1: cannot decode "soon" as a duration`},
		{name: "list", yaml: "d: [1s]", wantErr: "line 1: want a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte(tt.yaml), &v)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, v.D.D())
			require.Equal(t, tt.want.String(), v.D.String())
			text, err := v.D.MarshalText()
			require.NoError(t, err)
			var back Duration
			require.NoError(t, back.UnmarshalText(text))
			require.Equal(t, v.D, back)
			out, err := yaml.Marshal(v)
			require.NoError(t, err)
			require.Equal(t, "d: "+tt.want.String()+"\n", string(out))
		})
	}
}

func TestBotLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timezone string
		want     string
	}{
		{name: "shanghai", timezone: "Asia/Shanghai", want: "Asia/Shanghai"},
		{name: "utc", timezone: "UTC", want: "UTC"},
		{name: "new york", timezone: "America/New_York", want: "America/New_York"},
		{name: "empty is utc", timezone: "", want: "UTC"},
		{name: "unknown falls back to utc", timezone: "Mars/Olympus", want: "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Bot{Timezone: tt.timezone}.Location().String())
		})
	}
}

func TestLogSlogLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		level string
		want  slog.Level
	}{
		{name: "debug", level: "debug", want: slog.LevelDebug},
		{name: "info", level: "info", want: slog.LevelInfo},
		{name: "warn", level: "warn", want: slog.LevelWarn},
		{name: "error", level: "error", want: slog.LevelError},
		{name: "unknown", level: "loud", want: slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Log{Level: tt.level}.SlogLevel())
		})
	}
}

func TestMigrateOnStartOr(t *testing.T) {
	t.Parallel()
	on, off := true, false
	tests := []struct {
		name string
		v    *bool
		want bool
	}{
		{name: "unset", v: nil, want: true},
		{name: "true", v: &on, want: true},
		{name: "false", v: &off, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Database{MigrateOnStart: tt.v}.MigrateOnStartOr())
		})
	}
}

func TestLoadFromYAMLOverridesMigrate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want bool
	}{
		{name: "explicit false kept", yaml: "database: {url: 'postgres://h/db', migrate_on_start: false}\n", want: false},
		{name: "explicit true", yaml: "database: {url: 'postgres://h/db', migrate_on_start: true}\n", want: true},
		{name: "default", yaml: "database: {url: 'postgres://h/db'}\n", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadYAML(t, requiredYAML+"redis: {url: 'redis://r'}\n"+tt.yaml, nil)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.Database.MigrateOnStartOr())
		})
	}
}

func TestValidationErrorUnwrapsAs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{name: "direct", err: &ValidationError{Problems: []string{"a: b"}}},
		{name: "wrapped", err: fmt.Errorf("start: %w", &ValidationError{Problems: []string{"a: b"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ve *ValidationError
			require.True(t, errors.As(tt.err, &ve))
			require.Equal(t, []string{"a: b"}, ve.Problems)
		})
	}
}

func TestIncidentPolicyConfig(t *testing.T) {
	t.Parallel()
	env := []string{"OPSBOT_DATABASE_URL=postgres://x@h/db", "OPSBOT_REDIS_URL=redis://h:6379/0"}
	cfg, err := Load("", append(env, "OPSBOT_INCIDENTS_ESCALATION_LEVEL2=primary; 2m secondary", "OPSBOT_INCIDENTS_PROGRESS_LEVEL2=20m"))
	require.NoError(t, err)
	p, err := cfg.Incidents.Policy()
	require.NoError(t, err)
	require.Equal(t, 2*time.Minute, p.Steps[2][1].After)
	require.Equal(t, 20*time.Minute, p.Progress[2])
	_, err = Load("", append(env, "OPSBOT_INCIDENTS_ESCALATION_LEVEL2=primary; 5m boss"))
	require.ErrorContains(t, err, `incidents.escalation: level 2: step "5m boss": unknown target "boss"`)
}

func TestWorkingHours(t *testing.T) {
	t.Parallel()
	got, err := Calendar{WorkingHours: "09:00-12:00, 13:30-18:00"}.Periods()
	require.NoError(t, err)
	require.Equal(t, []calendar.Period{{Start: 540, End: 720}, {Start: 810, End: 1080}}, got)
	for _, bad := range []string{"", "9-12", "12:00-09:00", "13:00-18:00,09:00-12:00", "09:00-12:00,11:00-13:00"} {
		_, err := Calendar{WorkingHours: bad}.Periods()
		require.Error(t, err, bad)
	}
	_, err = loadYAML(t, minimalYAML+"calendar: {working_hours: \"18:00-09:00\"}\ninspections: {issue_level: 7}\nbackups: {verify_day: 31}\ndigest: {at: \"9am\"}\n", nil)
	ps := problems(t, err)
	require.Contains(t, strings.Join(ps, "\n"), "calendar.working_hours")
	require.Contains(t, strings.Join(ps, "\n"), "inspections.issue_level")
	require.Contains(t, strings.Join(ps, "\n"), "backups.verify_day")
	require.Contains(t, strings.Join(ps, "\n"), "digest.at")
}

// TestPeriodRule: calendar.period_rule defaults to next_day, takes
// elapsed_hours, refuses anything else.
func TestPeriodRule(t *testing.T) {
	t.Parallel()
	c, err := loadYAML(t, minimalYAML, nil)
	require.NoError(t, err)
	require.Equal(t, "next_day", c.Calendar.PeriodRule)
	c, err = loadYAML(t, minimalYAML+"calendar: {period_rule: elapsed_hours}\n", nil)
	require.NoError(t, err)
	require.Equal(t, "elapsed_hours", c.Calendar.PeriodRule)
	_, err = loadYAML(t, minimalYAML+"calendar: {period_rule: calendar_days}\n", nil)
	require.Contains(t, strings.Join(problems(t, err), "\n"), "calendar.period_rule")
}

// TestAuditConfig: retention never below six months, checkpoints at
// least hourly, a key or an explicit unkeyed.
func TestAuditConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{name: "retention below six months", yaml: "audit: {retention: 720h}", want: "audit.retention: must be at least 4392h0m0s"},
		{name: "checkpoints less than hourly", yaml: "audit: {checkpoint_every: 2h}", want: "audit.checkpoint_every: must be 1m..1h"},
		{name: "key and unkeyed", yaml: "audit: {key_file: /k, unkeyed: true}", want: "audit.unkeyed: cannot be set"},
		{name: "generate without a file", yaml: "audit: {generate_key: true}", want: "audit.generate_key: needs audit.key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, minimalYAML+tt.yaml+"\n", nil)
			require.ErrorContains(t, err, tt.want)
		})
	}
	c, err := loadYAML(t, minimalYAML+"audit: {retention: 8784h, key_file: /k}\n", []string{"OPSBOT_AUDIT_KEY_FILE=/etc/k"})
	require.NoError(t, err)
	require.Equal(t, "/etc/k", c.Audit.KeyFile)
	require.Equal(t, 8784*time.Hour, c.Audit.Retention.D())
}

// TestPublicURLFromEnvironmentReachesDerivedAddresses: webchat.public_url
// set only through the environment still gives the console's deep links,
// the sign-in redirect base and the OIDC callback their defaults.
func TestPublicURLFromEnvironmentReachesDerivedAddresses(t *testing.T) {
	c, err := Load("", []string{"OPSBOT_WEBCHAT_PUBLIC_URL=https://ops.example.gov.cn"})
	require.NoError(t, err)
	require.Equal(t, "https://ops.example.gov.cn", c.Console.PublicURL)
	require.Equal(t, "https://ops.example.gov.cn", c.Auth.RedirectBase)
	require.Equal(t, "https://ops.example.gov.cn/auth/oidc/callback", c.Auth.OIDC.RedirectURL)
	c, err = Load("", []string{"OPSBOT_WEBCHAT_PUBLIC_URL=https://ops.example.gov.cn", "OPSBOT_CONSOLE_PUBLIC_URL=https://console.example.gov.cn"})
	require.NoError(t, err)
	require.Equal(t, "https://console.example.gov.cn", c.Console.PublicURL, "an explicit console.public_url wins")
}
