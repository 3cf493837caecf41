package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := cli([]string{"version"}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Regexp(t, `^opsbot \S+ \(commit \S+, built \S+, go1\.\d+`, out.String())
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o400))
	good := `
server: {listen: "0.0.0.0:8080"}
database: {url: "postgres://opsbot:dbsecret@db:5432/opsbot"}
redis: {url: "redis://:redissecret@127.0.0.1:6379/0"}
bootstrap: {admin: {user: admin, name: Admin, unit: city, unit_name: City}}
webchat: {enabled: true, token: websecret}
audit: {key_file: "` + key + `"}
`
	tests := []struct {
		name     string
		yaml     string
		environ  []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{name: "valid, secrets redacted", yaml: good, wantOut: []string{
			"listen: 0.0.0.0:8080", "postgres://opsbot:***@db:5432/opsbot", "token: '***'", "format: json",
		}},
		{name: "invalid value", yaml: good, environ: []string{"OPSBOT_BOT_LANGUAGE=fr"}, wantCode: 2, wantErr: `bot.language: must be "zh-CN" or "en"`},
		{name: "dev mode on the network", yaml: good, environ: []string{"OPSBOT_WEBCHAT_DEV_MODE=true"}, wantCode: 2, wantErr: "webchat.dev_mode: refused"},
		{name: "unknown key", yaml: good + "bogus: 1\n", wantCode: 2, wantErr: "field bogus not found"},
		{name: "audit key missing", yaml: good, environ: []string{"OPSBOT_AUDIT_KEY_FILE=" + filepath.Join(dir, "nope")}, wantCode: 1, wantErr: "audit: key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "opsbot.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tt.yaml), 0o600))
			var out, errOut bytes.Buffer
			code := cli([]string{"check-config", "--config", path}, tt.environ, &out, &errOut)
			require.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			for _, w := range tt.wantOut {
				require.Contains(t, out.String(), w)
			}
			for _, secret := range []string{"dbsecret", "redissecret", "websecret"} {
				require.NotContains(t, out.String()+errOut.String(), secret)
			}
			if tt.wantErr != "" {
				require.Contains(t, errOut.String(), tt.wantErr)
				return
			}
			require.Contains(t, errOut.String(), "config ok")
			var back map[string]any
			require.NoError(t, yaml.Unmarshal(out.Bytes(), &back), "the printed config is YAML")
			require.Contains(t, back, "server")
		})
	}
}

func TestProbeCommand(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "postgres: down", http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	var out, errOut bytes.Buffer
	require.Equal(t, 0, cli([]string{"probe", ok.URL + "/readyz"}, nil, &out, &errOut), errOut.String())
	errOut.Reset()
	require.Equal(t, 1, cli([]string{"probe", ok.URL + "/other"}, nil, &out, &errOut))
	require.Contains(t, errOut.String(), "503")
	require.Equal(t, 1, cli([]string{"probe", "http://127.0.0.1:1/readyz"}, nil, &out, &errOut))
	require.Equal(t, 2, cli([]string{"probe", "a", "b"}, nil, &out, &errOut))
}
