package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestE2EPoisonInput: a NUL character in a chat command, the webchat API
// or the backup API gets a clear answer — the command runs on the text
// without it, the APIs answer 400 naming the field — never a 5xx or
// "internal error".
func TestE2EPoisonInput(t *testing.T) {
	a := startApp(t, "OPSBOT_BACKUPS_TOKEN=bk-token")

	// Chat: the title is stored without the NUL.
	r := a.say("huangyu", "/incident declare 磁盘\u0000告警 --level 4")
	requireOK(t, r)
	require.Contains(t, r.all(), "磁盘告警")
	require.NotContains(t, r.all(), "\u0000")
	r = a.say("huangyu", "/ticket open business 导出\u0000失败 --app sjsj")
	requireOK(t, r)
	require.Contains(t, r.all(), "导出失败")
	r = a.say("huangyu", "/inc\u0000ident show 1")
	require.NotContains(t, r.all(), "服务内部错误")
	// A NUL in a button's value or a click's note.
	code, body := a.call("POST", "/webchat/api/actions", map[string]string{"user": "sunli", "action": "incident.ack", "value": "incident:1\u0000"})
	require.Equal(t, 200, code, body)
	require.NotContains(t, string(body), "服务内部错误")

	// The webchat API refuses a user it could not store or look up.
	for path, body := range map[string]map[string]string{
		"/webchat/api/messages": {"user": "sun\u0000li", "text": "/whoami"},
		"/webchat/api/actions":  {"user": "sun\u0000li", "action": "incident.ack", "value": "incident:1"},
	} {
		code, out := a.call("POST", path, body)
		require.Equal(t, 400, code, "%s: %s", path, out)
		require.Contains(t, string(out), "user cannot be stored")
	}
	for _, path := range []string{"/webchat/api/inbox?user=", "/webchat/api/channels?user="} {
		code, body := a.call("GET", path+url.QueryEscape("sun\u0000li"), nil)
		require.Equal(t, 400, code, "%s: %s", path, body)
	}

	// The backup API: 400 with the reason, for note and for system.
	requireOK(t, a.say("sunli", "/backup plan add cmdb --daily 10:00"))
	for field, word := range map[string]string{"note": "备注", "system": "系统"} {
		body := map[string]any{"system": "cmdb", "status": "ok", "note": "done"}
		body[field] = body[field].(string) + "\u0000x"
		code, out := a.postBackup("bk-token", body)
		require.Equal(t, 400, code, "%s: %v", field, out)
		require.Equal(t, "text_unstorable", out["error"], out)
		require.Contains(t, out["message"], word)
	}
	code, out := a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "ok", "note": "fine"})
	require.Equal(t, 200, code, out)
}

// TestE2ELengthLimits: each length limit accepts a value at the limit and
// refuses one past it with a message that names the limit enforced.
func TestE2ELengthLimits(t *testing.T) {
	a := startApp(t, "OPSBOT_BACKUPS_TOKEN=bk-token")
	requireOK(t, a.say("sunli", "/backup plan add cmdb --daily 10:00"))
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	x := func(n int) string { return strings.Repeat("字", n) }
	code := func(n int) string { return strings.Repeat("c", n) }
	items := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("item", i)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name  string
		user  string
		cmd   func(n int) string
		limit int
	}{
		{"incident title", "huangyu", func(n int) string { return "/incident declare " + x(n) + " --level 4" }, 200},
		{"ticket title", "huangyu", func(n int) string { return "/ticket open business " + x(n) + " --app sjsj" }, 200},
		{"problem title", "sunli", func(n int) string { return "/problem add " + x(n) }, 200},
		{"operation title", "sunli", func(n int) string { return "/op request " + x(n) + " --reason 需要" }, 200},
		{"unit name", "admin", func(n int) string { return fmt.Sprintf("/org unit add u%d %s --parent city --level district", n, x(n)) }, 100},
		{"unit rename", "admin", func(n int) string { return "/org unit rename dongcheng " + x(n) }, 100},
		{"user name", "admin", func(n int) string { return fmt.Sprintf("/org user add p%d %s --unit dc-edu", n, x(n)) }, 100},
		{"app name", "zhangwei", func(n int) string { return fmt.Sprintf("/app register app%d %s --owner dc-edu --scope unit", n, x(n)) }, 100},
		{"unit code", "admin", func(n int) string {
			return fmt.Sprintf("/org unit add %s 单位%d --parent city --level district", code(n), n)
		}, 64},
		{"platform account", "admin", func(n int) string { return "/org user link huangyu --platform slack --id " + code(n) }, 128},
		{"release version", "wuhao", func(n int) string { return "/app release sjsj " + code(n) + " --notes 修复" }, 64},
		{"checklist items", "sunli", func(n int) string {
			return fmt.Sprintf("/inspect plan add check%d --cron \"0 9 * * *\" --assignee sunli --items %s", n, items(n))
		}, 20},
		{"backup report note", "sunli", func(n int) string { return "/backup report cmdb ok --note " + x(n) }, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireOK(t, a.say(tt.user, tt.cmd(tt.limit)))
			r := a.say(tt.user, tt.cmd(tt.limit+1))
			requireRefused(t, r, fmt.Sprint(tt.limit))
			for _, wrong := range []int{64, 100, 128, 200, 1000} {
				if wrong != tt.limit {
					require.NotRegexp(t, fmt.Sprintf(`(^|\D)%d(\D|$)`, wrong), r.Text, "the message names the limit enforced")
				}
			}
		})
	}
	// The backup API's note: the same limit.
	st, out := a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "ok", "note": x(1000)})
	require.Equal(t, 200, st, out)
	st, out = a.postBackup("bk-token", map[string]any{"system": "cmdb", "status": "ok", "note": x(1001)})
	require.Equal(t, 422, st, out)
	require.Contains(t, out["message"], "1000")
}

// TestE2EInputAsTyped: through the web chat, a full-width slash is a
// command, a display name stands for its user, and a typo'd command or
// name gets "did you mean …".
func TestE2EInputAsTyped(t *testing.T) {
	a := startApp(t)
	r := a.say("sunli", "／帮助")
	requireOK(t, r)
	require.NotContains(t, r.all(), "请以 / 开头")

	r = a.say("huangyu", "/incident declare 磁盘告警 ——level ４")
	requireOK(t, r)
	r = a.say("sunli", "/incident assign 1 孙丽")
	requireOK(t, r)
	require.Contains(t, r.all(), "处理人: 孙丽")

	r = a.say("sunli", "/incident assign 1 孙莉")
	require.Contains(t, r.all(), "您是不是要输入：孙丽（sunli）", r.all())
	r = a.say("sunli", "/incdent show 1")
	require.Contains(t, r.all(), "您是不是要输入：/incident show", r.all())
	r = a.say("sunli", "/org tree dc-eud")
	require.Contains(t, r.all(), "（dc-edu）", r.all())
	r = a.say("sunli", "/org user show sunly")
	require.Contains(t, r.all(), "孙丽（sunli）", r.all())

	// A name in a flag, with full-width dashes and a full-width colon.
	requireOK(t, a.say("sunli", "/backup plan add cmdb －－daily １０：００ ——owner 孙丽"))
	r = a.say("sunli", "/backup plan show cmdb")
	requireOK(t, r)
	require.Contains(t, r.all(), "孙丽", r.all())
	require.Contains(t, r.all(), "10:00", r.all())
}
