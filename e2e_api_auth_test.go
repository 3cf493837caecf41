package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// apiAs calls /api/v1 with a bearer token and extra headers.
func (a *app) apiAs(t *testing.T, token, method, path string, body any, header ...string) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// chatAs sends a chat command through the web chat with a credential and
// returns the one reply's text.
func (a *app) chatAs(t *testing.T, token, text string) (status, reply string) {
	t.Helper()
	code, out := a.authed(t, "POST", "/webchat/api/messages", token, map[string]string{"text": text})
	require.Equal(t, 200, code, out)
	var r struct{ Replies []wmsg }
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Len(t, r.Replies, 1, out)
	return r.Replies[0].Status, r.Replies[0].Text
}

// mintToken has user make a personal API token through the chat and
// returns its secret.
func (a *app) mintToken(t *testing.T, user, flags string) string {
	t.Helper()
	_, out := a.authed(t, "POST", "/webchat/api/messages", a.signInLink(t, user), map[string]string{"text": "/token create t " + flags})
	secret := apiSecret.FindString(out)
	require.NotEmpty(t, secret, out)
	return secret
}

func errorOf(t *testing.T, out map[string]any) (code, message string) {
	t.Helper()
	e, ok := out["error"].(map[string]any)
	require.True(t, ok, "an error object: %v", out)
	return fmt.Sprint(e["code"]), fmt.Sprint(e["message"])
}

// TestAPITokensMustShow is issue 14's "must show" for API tokens, with dev
// mode off: a member's token cannot approve a request or read another
// unit's ticket (403, the chat's words), a district admin's token lists
// only its district's tickets, a read token cannot act, naming another
// user does nothing, and a revoked token gets 401 at once.
func TestAPITokensMustShow(t *testing.T) {
	a := startApp(t, "OPSBOT_WEBCHAT_DEV_MODE=false")
	links := map[string]string{}
	for _, u := range []string{"zhangwei", "zhengmin", "maxin", "liqiang", "admin"} {
		links[u] = a.signInLink(t, u)
	}
	say := func(user, text string) string {
		status, reply := a.chatAs(t, links[user], text)
		require.Equal(t, "ok", status, reply)
		return reply
	}
	say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit")
	say("zhangwei", "/org role grant zhengmin unit_contact")
	_, out := a.authed(t, "POST", "/webchat/api/messages", links["zhengmin"], map[string]string{"text": "/app online kaoqin --note 上线"})
	m := requestNo.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	req := m[1]

	member := a.mintToken(t, "maxin", "")
	contact := a.mintToken(t, "zhengmin", "")
	district := a.mintToken(t, "liqiang", "")
	owner := a.mintToken(t, "zhangwei", "--scope read")

	// A member's token cannot approve: 403 with the chat's own words.
	code, body := a.apiAs(t, member, "POST", "/api/v1/requests/"+req+"/approve", map[string]string{"note": "ok"})
	require.Equal(t, 403, code, body)
	_, msg := errorOf(t, body)
	_, chat := a.chatAs(t, links["maxin"], "/request approve "+req)
	require.Equal(t, chat, msg, "the same reason text as chat")

	// Tickets: one in dongcheng (zhengmin, dc-edu), one elsewhere (huangyu's unit).
	code, body = a.apiAs(t, contact, "POST", "/api/v1/tickets", map[string]string{"kind": "tech", "title": "VPN 无法登录"})
	require.Equal(t, 201, code, body)
	edu := fmt.Sprint(body["id"])
	code, body = a.apiAs(t, a.mintToken(t, "huangyu", ""), "POST", "/api/v1/tickets",
		map[string]string{"kind": "business", "title": "抽查名单导出失败", "app": "sjsj"})
	require.Equal(t, 201, code, body)
	market := fmt.Sprint(body["id"])

	// The member of another unit may not read the dongcheng ticket.
	code, body = a.apiAs(t, member, "GET", "/api/v1/tickets/"+edu, nil)
	require.Equal(t, 403, code, body)
	_, msg = errorOf(t, body)
	_, chat = a.chatAs(t, links["maxin"], "/ticket show "+edu)
	require.Equal(t, chat, msg)

	// The district admin's token lists only its district's tickets.
	code, body = a.apiAs(t, district, "GET", "/api/v1/tickets", nil)
	require.Equal(t, 200, code, body)
	var ids []string
	for _, it := range body["items"].([]any) {
		ids = append(ids, fmt.Sprint(it.(map[string]any)["id"]))
	}
	require.Equal(t, []string{edu}, ids, "not %s, outside dongcheng", market)

	// A read token reads but cannot act.
	code, _ = a.apiAs(t, owner, "GET", "/api/v1/requests/"+req, nil)
	require.Equal(t, 200, code)
	code, body = a.apiAs(t, owner, "POST", "/api/v1/requests/"+req+"/approve", map[string]string{"note": "ok"})
	require.Equal(t, 403, code, body)
	c, _ := errorOf(t, body)
	require.Equal(t, "read_only_token", c)

	// Naming another user does nothing with dev mode off: the token's user acts.
	code, body = a.apiAs(t, member, "GET", "/api/v1/me", nil, "X-Opsbot-User", "admin")
	require.Equal(t, 200, code, body)
	require.Equal(t, "maxin", body["user"])
	code, _ = a.apiAs(t, "", "GET", "/api/v1/me", nil, "X-Opsbot-User", "admin")
	require.Equal(t, 401, code, "the dev header is no credential outside dev mode")

	// Revoked: 401 on the very next call.
	_, list := a.chatAs(t, links["maxin"], "/token list")
	id := tokenID.FindStringSubmatch(list)
	require.NotNil(t, id, list)
	say("maxin", "/token revoke "+id[1])
	code, body = a.apiAs(t, member, "GET", "/api/v1/me", nil)
	require.Equal(t, 401, code, body)
	c, _ = errorOf(t, body)
	require.Equal(t, "unauthenticated", c)
}

// readmeSection returns the ```sh blocks of README.md's section whose
// heading starts with heading.
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var blocks []string
	in, code := false, false
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case !code && strings.HasPrefix(line, "## "):
			in = strings.HasPrefix(line, heading)
		case in && !code && strings.TrimSpace(line) == "```sh":
			code = true
			cur.Reset()
		case code && strings.TrimSpace(line) == "```":
			code = false
			if in {
				blocks = append(blocks, cur.String())
			}
		case code:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// TestREADMEAPIExamples runs the curl examples of README's API section,
// as written, against a running opsbot with dev mode off: declare an
// incident from a script, list overdue tickets, approve a request.
func TestREADMEAPIExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run README's examples (apt-get install curl)")
	}
	a := startApp(t, "OPSBOT_WEBCHAT_DEV_MODE=false")
	zhangwei := a.signInLink(t, "zhangwei")
	for _, c := range []struct{ link, text string }{
		{zhangwei, "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"},
		{zhangwei, "/org role grant zhengmin unit_contact"},
	} {
		status, reply := a.chatAs(t, c.link, c.text)
		require.Equal(t, "ok", status, reply)
	}
	_, out := a.authed(t, "POST", "/webchat/api/messages", a.signInLink(t, "zhengmin"), map[string]string{"text": "/app online kaoqin --note 上线"})
	req := requestNo.FindStringSubmatch(out)
	require.NotNil(t, req, out)

	blocks := readmeSection(t, "## API")
	require.GreaterOrEqual(t, len(blocks), 3, "README's API section shows at least the three common jobs")
	env := append(os.Environ(), "OPSBOT_URL="+a.base, "OPSBOT_TOKEN="+a.mintToken(t, "zhangwei", ""), "REQUEST_ID="+req[1])
	for i, b := range blocks {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", b)
		cmd.Env = env
		got, err := cmd.CombinedOutput()
		require.NoError(t, err, "README API example %d:\n%s\n%s", i+1, b, got)
	}
	// The examples did what they say.
	status, reply := a.chatAs(t, zhangwei, "/incident list")
	require.Equal(t, "ok", status)
	require.Contains(t, reply, "db01 磁盘使用率 95%")
	_, reply = a.chatAs(t, zhangwei, "/request show "+req[1])
	require.Contains(t, reply, "同意上线")
}
