package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// callAs makes an API call, with a bearer token unless it is "".
func (a *app) callAs(token, method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(a.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return resp.StatusCode, out
}

// textColumnsHolding lists "table.column" of every text, varchar, json
// and jsonb column of the app's schema that contains secret.
func textColumnsHolding(t *testing.T, a *app, secret string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := a.store.Pool().Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
		ORDER BY table_name, column_name`)
	require.NoError(t, err)
	type col struct{ Table, Column string }
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[col])
	require.NoError(t, err)
	require.NotEmpty(t, cols)
	var found []string
	for _, c := range cols {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE strpos(%s::text, $1) > 0`,
			pgx.Identifier{c.Table}.Sanitize(), pgx.Identifier{c.Column}.Sanitize())
		require.NoError(t, a.store.Pool().QueryRow(ctx, q, secret).Scan(&n), q)
		if n > 0 {
			found = append(found, c.Table+"."+c.Column)
		}
	}
	return found
}

var linkToken = regexp.MustCompile(`#token=([A-Za-z0-9_-]{20,})`)

// TestSecretsNotStoredAtRest: a personal sign-in link is answered once
// and no text column of the database holds its token afterwards (issue 21
// item 7), nor a session's secret; the link signs its user in.
func TestSecretsNotStoredAtRest(t *testing.T) {
	a := signedOff(t)
	var tokens []string
	for _, c := range []struct{ user, text string }{
		{"sunli", "/webchat link"},
		{"admin", "/webchat link zhengmin"}, // an admin's link for someone else
	} {
		body := a.signedIn(c.user).say(c.text)
		m := linkToken.FindStringSubmatch(body)
		require.NotNil(t, m, "no link in %s", body)
		tokens = append(tokens, m[1])
	}
	for i, tok := range tokens {
		require.Empty(t, textColumnsHolding(t, a, tok), "token %d is stored in plain text", i)
	}
	// The history keeps the reply, redacted.
	sunli := a.signedIn("sunli")
	code, body := sunli.call("GET", "/webchat/api/inbox?after=0", nil)
	require.Equal(t, 200, code, body)
	require.Contains(t, body, "/webchat/#token=")
	require.NotContains(t, body, tokens[0])
	// The links sign their users in; the session secrets are kept hashed.
	for i, who := range []string{"sunli", "zhengmin"} {
		b := a.newBrowser()
		b.exchange(tokens[i])
		code, body = b.call("GET", "/webchat/api/me", nil)
		require.Equal(t, 200, code, body)
		require.Contains(t, body, `"user":"`+who+`"`)
		u, _ := url.Parse(a.base)
		for _, c := range b.c.Jar.Cookies(u) {
			require.Empty(t, textColumnsHolding(t, a, c.Value), "session secret of %s stored in plain text", who)
		}
	}
}

// TestChannelsAreClosed: a user who is not in #ops cannot post into it
// nor read it; a sys admin adds them with /channel add (audited), and then
// they can (issue 21 item 8).
func TestChannelsAreClosed(t *testing.T) {
	a := startApp(t)
	// An approval card goes to #ops.
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	requireOK(t, a.say("zhangwei", "/org role grant zhengmin unit_contact"))
	r := a.say("zhengmin", "/app online kaoqin")
	requireOK(t, r)
	eventually(t, "a card in #ops", func() bool {
		code, body := a.call("GET", "/webchat/api/channel?name=ops&user=sunli&after=0", nil)
		return code == 200 && strings.Contains(string(body), `"ref"`)
	})

	// maxin is no member: posting into #ops is refused and joins nothing.
	code, body := a.call("POST", "/webchat/api/messages", map[string]string{"user": "maxin", "channel": "ops", "text": "/whoami"})
	require.Equal(t, 403, code, string(body))
	require.Contains(t, string(body), "ops")
	code, body = a.call("GET", "/webchat/api/channels?user=maxin", nil)
	require.Equal(t, 200, code)
	require.NotContains(t, string(body), `"ops"`)
	for _, m := range a.inbox("maxin") {
		require.NotEqual(t, "ops", m.To["channel"], "maxin reads #ops: %+v", m)
	}
	code, body = a.call("GET", "/webchat/api/channel?name=ops&user=maxin&after=0", nil)
	require.Equal(t, 403, code, string(body))

	// A member can post and read.
	code, body = a.call("POST", "/webchat/api/messages", map[string]string{"user": "sunli", "channel": "ops", "text": "/whoami"})
	require.Equal(t, 200, code, string(body))
	var opsSeen bool
	for _, m := range a.inbox("sunli") {
		opsSeen = opsSeen || m.To["channel"] == "ops"
	}
	require.True(t, opsSeen)

	// Only a sys admin manages members.
	r = a.say("liqiang", "/channel add ops maxin")
	require.Equal(t, "error", r.Status, r.Text)
	r = a.say("admin", "/channel add ops maxin")
	requireOK(t, r)
	r = a.say("admin", "/channel list ops")
	requireOK(t, r)
	require.Contains(t, r.all(), "maxin")
	require.Contains(t, r.all(), "sunli")
	code, body = a.call("GET", "/webchat/api/channel?name=ops&user=maxin&after=0", nil)
	require.Equal(t, 200, code, string(body))
	require.Contains(t, string(body), `"ref"`)
	code, body = a.call("POST", "/webchat/api/messages", map[string]string{"user": "maxin", "channel": "ops", "text": "/whoami"})
	require.Equal(t, 200, code, string(body))
	r = a.say("admin", "/audit channel:ops")
	require.Contains(t, r.all(), "将成员加入群 ops")

	// Removed again, maxin is out.
	requireOK(t, a.say("admin", "/channel remove ops maxin"))
	code, _ = a.call("GET", "/webchat/api/channel?name=ops&user=maxin&after=0", nil)
	require.Equal(t, 403, code)
	// Config members are not removed by command.
	r = a.say("admin", "/channel remove ops sunli")
	require.Equal(t, "error", r.Status, r.Text)
}

// silences lists Alertmanager's silences.
func silences(t *testing.T, am string) []struct {
	ID       string `json:"id"`
	Matchers []struct{ Name, Value string }
} {
	t.Helper()
	resp, err := http.Get(am + "/api/v2/silences")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out []struct {
		ID       string `json:"id"`
		Matchers []struct{ Name, Value string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestWhoMaySilence: a member cannot silence an alert incident (no
// silence is made); its on-call, an operator and an admin can, and each
// silence is audited with its matchers (issue 21 item 9).
func TestWhoMaySilence(t *testing.T) {
	amPort := freePort(t)
	a := startApp(t, fmt.Sprintf("OPSBOT_ALERTS_ALERTMANAGER_URL=http://127.0.0.1:%d", amPort))
	am := startAlertmanager(t, amPort, a.base+"/alerts/alertmanager")
	fire(t, am, map[string]string{"alertname": "SjsjDown", "app": "sjsj", "severity": "critical"}, "双随机抽查系统无法访问", time.Now().Add(time.Hour))
	card := a.channelCard("ops", 1)
	var value string
	for _, b := range card.Buttons {
		if b.Action == "alert.silence" {
			value = b.Value
			break
		}
	}
	require.NotEmpty(t, value)

	// maxin (a member, never sent the card) presses it anyway.
	code, body := a.call("POST", "/webchat/api/actions", map[string]string{"user": "maxin", "action": "alert.silence", "value": value})
	require.Equal(t, 200, code, string(body))
	require.Contains(t, string(body), `"status":"error"`)
	require.Contains(t, string(body), "无权静默")
	require.Empty(t, silences(t, am))

	// The on-call (sunli, an operator too), another operator, and the sys admin may.
	for i, who := range []string{"sunli", "zhoujie", "admin"} {
		code, body = a.call("POST", "/webchat/api/actions", map[string]string{"user": who, "action": "alert.silence", "value": value})
		require.Equal(t, 200, code, string(body))
		require.Contains(t, string(body), `"status":"ok"`, who)
		require.Len(t, silences(t, am), i+1)
	}
	r := a.say("admin", "/audit incident:1")
	require.Equal(t, 3, strings.Count(r.Text, "静默事件 #1 的告警"), r.Text)
	var n int
	require.NoError(t, a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log
		WHERE action = 'alert.silence' AND after::jsonb->'matchers' @> '[{"name":"alertname","value":"SjsjDown"},{"name":"app","value":"sjsj"}]'`).Scan(&n))
	require.Equal(t, 3, n)
}
