package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// prodYAML is a minimal production config (no dev mode).
const prodYAML = `
database: {url: "postgres://u:pw@db:5432/opsbot"}
redis: {url: "redis://:rpw@127.0.0.1:6379/0"}
bootstrap: {admin: {user: admin, name: Admin, unit: city, unit_name: City}}
`

func TestLogFormatDefaultsToJSONOutsideDev(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		environ []string
		want    string
	}{
		{name: "production", yaml: prodYAML, want: "json"},
		{name: "dev mode", yaml: prodYAML + "webchat: {enabled: true, dev_mode: true}\n", want: "text"},
		{name: "dev mode from env", yaml: prodYAML, environ: []string{"OPSBOT_WEBCHAT_DEV_MODE=true"}, want: "text"},
		{name: "explicit text", yaml: prodYAML + "log: {format: text}\n", want: "text"},
		{name: "explicit json in dev", yaml: prodYAML + "webchat: {dev_mode: true}\nlog: {format: json}\n", want: "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadYAML(t, tt.yaml, tt.environ)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.Log.Format)
		})
	}
}

func TestDevModeRefusedOffLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		listen  string
		allow   bool
		wantErr bool
	}{
		{name: "ipv4 loopback", listen: "127.0.0.1:8080"},
		{name: "ipv6 loopback", listen: "[::1]:8080"},
		{name: "localhost", listen: "localhost:8080"},
		{name: "all interfaces", listen: "0.0.0.0:8080", wantErr: true},
		{name: "empty host", listen: ":8080", wantErr: true},
		{name: "lan address", listen: "10.1.2.3:8080", wantErr: true},
		{name: "lan address forced", listen: "10.1.2.3:8080", allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"OPSBOT_SERVER_LISTEN=" + tt.listen, "OPSBOT_WEBCHAT_DEV_MODE=true"}
			if tt.allow {
				env = append(env, "OPSBOT_SERVER_ALLOW_DEV_ON_NETWORK=true")
			}
			_, err := loadYAML(t, prodYAML, env)
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Contains(t, strings.Join(problems(t, err), "\n"), "webchat.dev_mode: refused")
		})
	}
	// Without dev mode any address is fine.
	_, err := loadYAML(t, prodYAML, []string{"OPSBOT_SERVER_LISTEN=0.0.0.0:8080"})
	require.NoError(t, err)
}

func TestServerTLSAndProxies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(cert, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(key, []byte("x"), 0o600))
	tests := []struct {
		name    string
		server  string
		wantErr string
	}{
		{name: "tls pair", server: `{tls_cert: "` + cert + `", tls_key: "` + key + `"}`},
		{name: "cert without key", server: `{tls_cert: "` + cert + `"}`, wantErr: "server.tls_key: required when server.tls_cert is set"},
		{name: "key without cert", server: `{tls_key: "` + key + `"}`, wantErr: "server.tls_cert: required when server.tls_key is set"},
		{name: "missing cert file", server: `{tls_cert: "/nonexistent/c", tls_key: "` + key + `"}`, wantErr: "server.tls_cert: cannot read"},
		{name: "proxies", server: `{trusted_proxies: [10.0.0.0/8, 127.0.0.1, "::1"]}`},
		{name: "bad proxy", server: `{trusted_proxies: [10.0.0.0/33]}`, wantErr: `server.trusted_proxies[0]: must be an IP address or CIDR, got "10.0.0.0/33"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadYAML(t, prodYAML+"server: "+tt.server+"\n", nil)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Contains(t, strings.Join(problems(t, err), "\n"), tt.wantErr)
		})
	}
	c, err := loadYAML(t, prodYAML+"server: {trusted_proxies: [10.0.0.0/8, 127.0.0.1]}\n", nil)
	require.NoError(t, err)
	nets, err := c.Server.TrustedNets()
	require.NoError(t, err)
	require.Len(t, nets, 2)
	require.True(t, nets[1].Contains([]byte{127, 0, 0, 1}))
}

func TestRedisModes(t *testing.T) {
	t.Parallel()
	base := `
database: {url: "postgres://u:pw@db:5432/opsbot"}
bootstrap: {admin: {user: admin, name: Admin, unit: city, unit_name: City}}
`
	tests := []struct {
		name    string
		redis   string
		environ []string
		wantErr string
	}{
		{name: "single by default", redis: `{url: "redis://127.0.0.1:6379/0"}`},
		{name: "single needs url", redis: `{mode: single}`, wantErr: "redis.url: required"},
		{name: "sentinel", redis: `{mode: sentinel, master_name: mymaster, addrs: ["s1:26379", "s2:26379"], password: pw, sentinel_password: spw, db: 2, tls: true}`},
		{name: "sentinel from env", redis: `{}`, environ: []string{"OPSBOT_REDIS_MODE=sentinel", "OPSBOT_REDIS_MASTER_NAME=m", "OPSBOT_REDIS_ADDRS=s1:26379,s2:26379"}},
		{name: "sentinel needs master", redis: `{mode: sentinel, addrs: ["s1:26379"]}`, wantErr: "redis.master_name: required"},
		{name: "sentinel needs addrs", redis: `{mode: sentinel, master_name: m}`, wantErr: "redis.addrs: required in sentinel mode"},
		{name: "sentinel with url", redis: `{mode: sentinel, master_name: m, addrs: ["s1:26379"], url: "redis://x:6379"}`, wantErr: "redis.url: only for mode single"},
		{name: "bad addr", redis: `{mode: cluster, addrs: ["nohost"]}`, wantErr: `redis.addrs[0]: must be host:port, got "nohost"`},
		{name: "cluster", redis: `{mode: cluster, addrs: ["n1:6379", "n2:6379", "n3:6379"]}`},
		{name: "cluster db", redis: `{mode: cluster, addrs: ["n1:6379"], db: 1}`, wantErr: "redis.db: must be 0 in cluster mode"},
		{name: "unknown mode", redis: `{mode: ring}`, wantErr: `redis.mode: must be "single", "sentinel" or "cluster", got "ring"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadYAML(t, base+"redis: "+tt.redis+"\n", tt.environ)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotEmpty(t, c.Redis.Mode)
				red := c.Redis
				r := c.Redacted().Redis
				if red.Password != "" {
					require.Equal(t, "***", r.Password)
					require.Equal(t, "***", r.SentinelPassword)
				}
				return
			}
			require.Contains(t, strings.Join(problems(t, err), "\n"), tt.wantErr)
		})
	}
}

// TestAlertReceiverTokenFile: a receiver's bearer_token_file is read like
// every other *_file secret (it used to be refused as "both set" once read).
func TestAlertReceiverTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tok, []byte("s3cret\n"), 0o600))
	c, err := loadYAML(t, prodYAML+"alerts: {receivers: [{name: am, bearer_token_file: \""+tok+"\"}]}\n", nil)
	require.NoError(t, err)
	require.Equal(t, "s3cret", c.Alerts.Receivers[0].BearerToken)
	_, err = loadYAML(t, prodYAML+"alerts: {receivers: [{name: am, bearer_token: x, bearer_token_file: \""+tok+"\"}]}\n", nil)
	require.ErrorContains(t, err, "both set")
}
