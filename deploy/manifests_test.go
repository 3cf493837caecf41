package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"opsbot/adapters/server"
	"opsbot/configs"
)

// yamlDocs decodes every YAML document of path.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err, path)
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// dig walks m along keys (map keys or list indexes as ints).
func dig(m any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		case int:
			l, ok := m.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			m = l[k]
		}
	}
	return m
}

// secretFiles writes the secrets the deploy configs read and returns the
// environment pointing the config at them instead of /run/secrets.
func loadDeployConfig(t *testing.T, path string, secrets map[string]string) *configs.Config {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dir := t.TempDir()
	text := string(data)
	for mount, name := range secrets {
		file := filepath.Join(dir, name)
		content := "secret-value"
		switch {
		case strings.Contains(name, "database_url"):
			content = "postgres://opsbot:pw@postgres:5432/opsbot"
		case strings.Contains(name, "audit"):
			content = strings.Repeat("ab", 32)
		}
		require.NoError(t, os.WriteFile(file, []byte(content+"\n"), 0o600))
		text = strings.ReplaceAll(text, mount, file)
	}
	conf := filepath.Join(dir, "opsbot.yaml")
	require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
	c, err := configs.Load(conf, nil)
	require.NoError(t, err, "%s must be a valid opsbot config", path)
	return c
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	docs := yamlDocs(t, "compose.yaml")
	require.Len(t, docs, 1)
	c := docs[0]
	services, ok := c["services"].(map[string]any)
	require.True(t, ok, "services")
	want := map[string]int{"migrate": 0, "serve": 2, "worker": 2, "scheduler": 1, "postgres": 0, "redis-master": 0,
		"redis-replica": 0, "sentinel-1": 0, "sentinel-2": 0, "sentinel-3": 0, "alertmanager": 0, "prometheus": 0}
	for name, replicas := range want {
		svc, ok := services[name].(map[string]any)
		require.True(t, ok, "service %s", name)
		require.True(t, svc["image"] != nil || svc["build"] != nil, "%s needs an image or a build", name)
		if replicas > 0 {
			require.Equal(t, replicas, dig(svc, "deploy", "replicas"), "%s replicas", name)
		}
		hc, _ := svc["healthcheck"].(map[string]any)
		switch name {
		case "migrate", "worker", "scheduler": // no HTTP port
			require.Equal(t, true, dig(hc, "disable"), "%s: healthcheck disabled explicitly", name)
		default:
			require.NotEmpty(t, dig(hc, "test"), "%s needs a healthcheck", name)
		}
		for _, s := range asList(svc["secrets"]) {
			require.Contains(t, c["secrets"], s, "%s uses undeclared secret %v", name, s)
		}
		for _, v := range asList(svc["volumes"]) {
			if src, _, ok := strings.Cut(v.(string), ":"); ok && strings.HasPrefix(src, "./") {
				require.FileExists(t, src, "%s mounts a file of the repository", name)
			}
		}
	}
	for _, name := range []string{"serve", "worker", "scheduler", "migrate"} {
		svc := services[name].(map[string]any)
		require.Equal(t, "deploy/Containerfile", dig(svc, "build", "dockerfile"))
		require.Equal(t, true, svc["read_only"], name)
		require.Contains(t, asList(svc["cap_drop"]), "ALL", name)
		require.Equal(t, []any{name}, svc["command"])
	}
	require.Equal(t, "service_completed_successfully", dig(services, "serve", "depends_on", "migrate", "condition"))
	sentinel := strings.Join(toStrings(dig(services, "sentinel-1", "command")), " ")
	require.Contains(t, sentinel, "sentinel monitor opsbot redis-master 6379 2")
	require.Contains(t, strings.Join(toStrings(dig(services, "redis-replica", "command")), " "), "--replicaof redis-master 6379")

	// The opsbot config of the compose file loads, in sentinel mode.
	cfg := loadDeployConfig(t, "compose/opsbot.yaml", map[string]string{
		"/run/secrets/database_url": "database_url", "/run/secrets/redis_password": "redis_password",
		"/run/secrets/audit_key": "audit_key", "/run/secrets/alert_token": "alert_token"})
	require.Equal(t, "sentinel", cfg.Redis.Mode)
	require.Equal(t, []string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"}, cfg.Redis.Addrs)

	// Alertmanager posts to opsbot's webhook with the shared token.
	am := yamlDocs(t, "compose/alertmanager.yml")[0]
	require.Equal(t, "http://serve:8080/alerts/alertmanager", dig(am, "receivers", 0, "webhook_configs", 0, "url"))
	require.Equal(t, "/run/secrets/alert_token", dig(am, "receivers", 0, "webhook_configs", 0, "http_config", "authorization", "credentials_file"))
	if amtool := os.Getenv("AMTOOL_PATH"); amtool != "" {
		out, err := exec.Command(amtool, "check-config", "compose/alertmanager.yml").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
}

func TestContainerfile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("Containerfile")
	require.NoError(t, err)
	text := string(data)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1)
	require.GreaterOrEqual(t, len(froms), 2, "multi-stage")
	require.Equal(t, "scratch", froms[len(froms)-1][1], "the final stage has no OS")
	final := text[strings.LastIndex(text, "\nFROM "):]
	require.Regexp(t, `(?m)^USER 65532:65532$`, final, "non-root")
	require.NotContains(t, final, "RUN ", "nothing runs in the final stage: there is no shell")
	require.Contains(t, text, "CGO_ENABLED=0 go build -trimpath")
	require.Contains(t, text, "-X main.version=${VERSION}")
	require.Regexp(t, `(?m)^HEALTHCHECK .*CMD \["/usr/local/bin/opsbot", "probe"\]`, final)
}

func TestKustomize(t *testing.T) {
	t.Parallel()
	k := yamlDocs(t, "k8s/kustomization.yaml")[0]
	var docs []map[string]any
	for _, r := range asList(k["resources"]) {
		path := filepath.Join("k8s", r.(string))
		require.FileExists(t, path, "kustomization.yaml lists %s", r)
		docs = append(docs, yamlDocs(t, path)...)
	}
	for _, g := range asList(k["configMapGenerator"]) {
		for _, f := range asList(dig(g, "files")) {
			require.FileExists(t, filepath.Join("k8s", f.(string)))
		}
	}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", "k8s").Output()
		require.NoError(t, err, "kubectl kustomize deploy/k8s")
		path := filepath.Join(t.TempDir(), "rendered.yaml")
		require.NoError(t, os.WriteFile(path, out, 0o600))
		docs = yamlDocs(t, path) // check what kubectl renders
	} else {
		t.Log("kubectl not installed: checked the manifests as written, not rendered")
	}

	byKind := map[string][]map[string]any{}
	for _, d := range docs {
		kind, _ := d["kind"].(string)
		byKind[kind] = append(byKind[kind], d)
	}
	require.Empty(t, byKind["Secret"], "Secret values stay out of git: only references")
	require.NotEmpty(t, byKind["Service"])
	require.Len(t, byKind["PodDisruptionBudget"], 2)
	deps := map[string]map[string]any{}
	for _, d := range byKind["Deployment"] {
		deps[dig(d, "metadata", "name").(string)] = d
	}
	require.Len(t, deps, 3)
	require.Equal(t, 1, dig(deps["opsbot-scheduler"], "spec", "replicas"))
	require.Equal(t, "Recreate", dig(deps["opsbot-scheduler"], "spec", "strategy", "type"))
	for name, d := range deps {
		pod := dig(d, "spec", "template", "spec")
		require.Equal(t, true, dig(pod, "securityContext", "runAsNonRoot"), name)
		require.Equal(t, "opsbot-secrets", findSecretRef(pod), name)
		containers := append(asList(dig(pod, "containers")), asList(dig(pod, "initContainers"))...)
		for _, c := range containers {
			require.Equal(t, true, dig(c, "securityContext", "readOnlyRootFilesystem"), name)
			require.Equal(t, false, dig(c, "securityContext", "allowPrivilegeEscalation"), name)
			require.NotNil(t, dig(c, "resources", "requests", "memory"), name)
			require.NotNil(t, dig(c, "resources", "limits", "memory"), name)
		}
	}
	serve := dig(deps["opsbot-serve"], "spec", "template", "spec", "containers", 0)
	require.Equal(t, "/healthz", dig(serve, "livenessProbe", "httpGet", "path"))
	require.Equal(t, "/readyz", dig(serve, "readinessProbe", "httpGet", "path"))
	require.Equal(t, []any{"migrate"}, dig(deps["opsbot-serve"], "spec", "template", "spec", "initContainers", 0, "args"))

	cfg := loadDeployConfig(t, "k8s/opsbot.yaml", map[string]string{
		"/run/secrets/opsbot/database_url": "database_url", "/run/secrets/opsbot/redis_password": "redis_password",
		"/run/secrets/opsbot/audit_key": "audit_key"})
	require.Equal(t, "sentinel", cfg.Redis.Mode)
}

// findSecretRef returns the secret name of the pod's secret volume.
func findSecretRef(pod any) string {
	for _, v := range asList(dig(pod, "volumes")) {
		if n, ok := dig(v, "secret", "secretName").(string); ok {
			return n
		}
	}
	return ""
}

// metricNames returns the metric families opsbot exports once every kind
// of sample has been observed.
func metricNames(t *testing.T) map[string]bool {
	t.Helper()
	m := server.NewMetrics()
	m.WatchBacklog(func(context.Context) (int, error) { return 1, nil }, func(context.Context) (time.Duration, error) { return time.Second, nil })
	m.Command("help", "ok")
	m.Task("timers:sweep", "ok")
	m.Delivery("webchat", "failed")
	s := server.New(m, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	fams, err := m.Registry.Gather()
	require.NoError(t, err)
	names := map[string]bool{"up": true} // Prometheus's own
	for _, f := range fams {
		names[f.GetName()] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			names[f.GetName()+suffix] = true
		}
	}
	return names
}

// metricRef finds metric names in PromQL: identifiers followed by { [ or ),
// or standing alone, minus PromQL's own words.
var metricRef = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

var promqlWords = map[string]bool{"sum": true, "by": true, "rate": true, "increase": true, "max": true, "and": true,
	"histogram_quantile": true, "le": true, "m": true, "s": true, "h": true, "without": true, "or": true, "unless": true}

// checkExpr fails when expr names a metric opsbot does not export.
func checkExpr(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	// Drop label matchers and label lists: {…} and (…) after by.
	clean := regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, "")
	clean = regexp.MustCompile(`by \([^)]*\)`).ReplaceAllString(clean, "")
	clean = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(clean, "")
	found := 0
	for _, id := range metricRef.FindAllString(clean, -1) {
		if promqlWords[id] {
			continue
		}
		require.True(t, names[id], "%s: %q uses metric %s, which opsbot does not export", where, expr, id)
		found++
	}
	require.Positive(t, found, "%s: no metric in %q", where, expr)
}

func TestObservability(t *testing.T) {
	t.Parallel()
	names := metricNames(t)
	for _, want := range []string{"opsbot_outbox_pending", "opsbot_timers_late_seconds", "opsbot_deliveries_total", "opsbot_tasks_total", "http_requests_total"} {
		require.True(t, names[want], want)
	}

	rules := yamlDocs(t, "observability/opsbot.rules.yml")[0]
	var alerts []string
	for _, g := range asList(rules["groups"]) {
		for _, r := range asList(dig(g, "rules")) {
			name, _ := dig(r, "alert").(string)
			alerts = append(alerts, name)
			checkExpr(t, "rule "+name, dig(r, "expr").(string), names)
			require.NotEmpty(t, dig(r, "annotations", "summary"), name)
			require.NotEmpty(t, dig(r, "labels", "severity"), name)
		}
	}
	for _, want := range []string{"OpsbotOutboxBacklog", "OpsbotTaskFailures", "OpsbotTimersLate", "OpsbotDeliveryFailures"} {
		require.True(t, slices.Contains(alerts, want), "alert %s", want)
	}

	data, err := os.ReadFile("observability/grafana-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	require.NotEmpty(t, dash.UID)
	require.GreaterOrEqual(t, len(dash.Panels), 8)
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			checkExpr(t, "panel "+p.Title, tg.Expr, names)
		}
	}

	prom := yamlDocs(t, "observability/prometheus.yml")[0]
	require.Equal(t, "/metrics", dig(prom, "scrape_configs", 0, "metrics_path"))
	require.Equal(t, []any{"/etc/prometheus/rules/opsbot.rules.yml"}, prom["rule_files"])
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func toStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, x.(string))
	}
	return out
}
