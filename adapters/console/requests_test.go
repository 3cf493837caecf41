package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/org"
	"opsbot/core/overview"
	"opsbot/core/ticket"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// fakeApprovals has request 7 (an app's onboarding in edu, waiting on
// zhang at step 1 of 2) and request 8 (west, zhang's own); "member" may
// not see request 7, as core refuses.
type fakeApprovals struct {
	decided []string // actor id step verb note
	err     error    // what Decide answers
	waiting int
}

func (f *fakeApprovals) detail(id int64) approval.Detail {
	steps := []approval.Step{
		{Seq: 1, Name: "approve", Roles: []org.Role{org.RoleUnitAdmin}, Count: 1, Verbs: []string{approval.VerbApprove, approval.VerbReject}},
		{Seq: 2, Name: "execute", Roles: []org.Role{org.RoleOperator}, Count: 1, Verbs: []string{approval.VerbDone}},
	}
	if id == 8 {
		return approval.Detail{Request: approval.Request{ID: 8, Kind: approval.KindOperation, Title: "清理日志", State: approval.StatePending, Step: 2,
			Requester: "zhang", Unit: "west", StepSince: t0}, Steps: steps, Next: []string{"sunli"}, Waited: time.Hour}
	}
	return approval.Detail{Request: approval.Request{ID: 7, Kind: approval.KindAppOnline, Title: "考勤系统上线", State: approval.StatePending, Step: 1,
		Requester: "zhengmin", App: "kaoqin", Unit: "edu", Payload: map[string]string{"notes": "高频应用优先"}, CreatedAt: t0, StepSince: t0},
		Steps: steps, Next: []string{"zhang"}, Waited: 150 * time.Minute,
		Decisions: []approval.Decision{{Step: 1, Actor: "li", Verb: "approve", Platform: "wecom", At: t0.Add(time.Hour)}}}
}

func (f *fakeApprovals) List(_ context.Context, actor core.Actor, mine, pending bool) (own, waiting []approval.Detail, err error) {
	return []approval.Detail{f.detail(8)}, []approval.Detail{f.detail(7)}, nil
}

func (f *fakeApprovals) Show(_ context.Context, actor core.Actor, id int64) (approval.Detail, error) {
	if actor.UserID == "member" {
		return approval.Detail{}, core.Forbidden("request_forbidden", "id", "7")
	}
	if id != 7 && id != 8 {
		return approval.Detail{}, core.NotFound("request_not_found", "id", "9")
	}
	return f.detail(id), nil
}

func (f *fakeApprovals) Decide(_ context.Context, actor core.Actor, id int64, step int, verb, note string) (approval.Result, error) {
	f.decided = append(f.decided, strings.Join([]string{actor.UserID, actor.Platform, strconv.FormatInt(id, 10), strconv.Itoa(step), verb, note}, " "))
	if f.err != nil {
		return approval.Result{}, f.err
	}
	return approval.Result{Waiting: f.waiting}, nil
}

// fakeTickets has ticket 12 (running, 5h30m left) and ticket 13 (paused);
// "member" may not follow them.
type fakeTickets struct{}

func (fakeTickets) Show(_ context.Context, actor core.Actor, id int64) (ticket.Detail, error) {
	if actor.UserID == "member" {
		return ticket.Detail{}, core.Forbidden("ticket_forbidden", "id", "12")
	}
	paused := t0.Add(time.Hour)
	switch id {
	case 12:
		return ticket.Detail{Ticket: ticket.Ticket{ID: 12, Kind: "tech", Title: "VPN 无法登录", Asker: "zhengmin", Unit: "edu", Assignees: []string{"sunli", "zhoujie"},
			State: "open", CreatedAt: t0, DueAt: t0.Add(8 * time.Hour)},
			Clock:  ticket.Clock{Due: t0.Add(8 * time.Hour), Running: true, Remaining: 330 * time.Minute},
			Events: []ticket.Event{{At: t0, Actor: "zhengmin", Kind: "open", Body: "VPN 无法登录"}}}, nil
	case 13:
		return ticket.Detail{Ticket: ticket.Ticket{ID: 13, Kind: "business", Title: "账号被锁定", Asker: "zhengmin", State: "waiting", PausedAt: &paused,
			CreatedAt: t0, DueAt: t0.Add(40 * time.Hour)}, Clock: ticket.Clock{Due: t0.Add(40 * time.Hour), Paused: true, Remaining: 2 * time.Hour}}, nil
	}
	return ticket.Detail{}, core.NotFound("ticket_not_found", "id", "14")
}

// fakeBoard is the SLA board with ticket 12.
type fakeBoard struct{}

func (fakeBoard) Board(context.Context, core.Actor, org.View) ([]ticket.Row, error) {
	return []ticket.Row{{Ticket: ticket.Ticket{ID: 12, Kind: "tech", Title: "VPN 无法登录", Unit: "edu"}, Clock: ticket.Clock{Running: true, Remaining: time.Hour}}}, nil
}

// fakeOverview has request 7 waiting and ticket 12 overdue, 13 due today.
type fakeOverview struct{}

func (fakeOverview) Read(context.Context, core.Actor, org.View) (overview.Overview, error) {
	return overview.Overview{Approvals: []overview.Waiting{{Request: approval.Request{ID: 7, Title: "考勤系统上线"}, Working: time.Hour}},
		Overdue: []ticket.Ticket{{ID: 12, Title: "VPN 无法登录"}}, DueToday: []ticket.Ticket{{ID: 13, Title: "账号被锁定", DueAt: t0}}}, nil
}

func newPagesConsole(t *testing.T, lang string) (*http.ServeMux, *fakeApprovals) {
	t.Helper()
	ap := &fakeApprovals{}
	c, err := New(Config{Language: lang, Location: time.UTC}, Services{Auth: fakeAuth{}, Views: fakeViews{}, Approvals: ap, TicketDetails: fakeTickets{},
		Tickets: fakeBoard{}, Overview: fakeOverview{}, Clock: fixedNow{t0}, Explain: explain}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	c.Routes(mux)
	return mux, ap
}

type fixedNow struct{ t time.Time }

func (f fixedNow) Now() time.Time { return f.t }

func post(mux *http.ServeMux, path, user string, form url.Values, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(mux, r, user, header...)
}

// TestRequestPage: a request's page shows what /request show shows (kind,
// title, requester, payload, state, the route with who decided what,
// when and on which platform, who it waits on and for how long in
// working time), and the approve and reject forms to one it waits on
// only; core's refusal is the chat's reason with 403.
func TestRequestPage(t *testing.T) {
	t.Parallel()
	mux, _ := newPagesConsole(t, bot.LangZH)
	w := get(mux, "/console/requests/7", "zhang")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	body := w.Body.String()
	for _, want := range []string{"申请 #7", "考勤系统上线", "应用上线", `<span id="requester">zhengmin</span>`, "高频应用优先", "处理中",
		"第 1/2 步：审批", "可处理：单位管理员", "li（企业微信）同意", "2026-11-24 10:00", "等待 zhang 处理，已等待 2小时30分钟（工作时间）",
		`action="/console/requests/7/decide"`, `name="verb" value="approve"`, `name="verb" value="reject"`, `value="csrf-token"`,
		`<input name="note" id="note-reject" required>`, `<input type="hidden" name="step" value="1">`} {
		require.Contains(t, body, want)
	}
	require.Contains(t, body, `data-key="requests" class="on"`)

	w = get(mux, "/console/requests/8", "zhang")
	require.Equal(t, http.StatusOK, w.Code)
	require.NotContains(t, w.Body.String(), `/decide"`, "a request that waits on someone else has no forms")
	w = get(mux, "/console/requests/7", "member")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "explained: request_forbidden")
	require.Equal(t, http.StatusNotFound, get(mux, "/console/requests/9", "zhang").Code)
	require.Equal(t, http.StatusNotFound, get(mux, "/console/requests/x", "zhang").Code)

	en, _ := newPagesConsole(t, bot.LangEN)
	body = get(en, "/console/requests/7", "zhang").Body.String()
	require.Contains(t, body, "Waiting on zhang for 2h 30m of working time")
	require.Contains(t, body, "li (WeCom) approved")
}

// TestRequestDecide: the forms decide through approval.Decide with the
// signed-in actor and come back to the page showing the outcome; core's
// refusals show the chat's words with their status; a read-only token
// may not decide.
func TestRequestDecide(t *testing.T) {
	t.Parallel()
	mux, ap := newPagesConsole(t, bot.LangZH)
	w := post(mux, "/console/requests/7/decide", "zhang", url.Values{"verb": {"approve"}, "step": {"1"}, "note": {"同意上线"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	require.Equal(t, "/console/requests/7?done=approve#outcome", w.Header().Get("Location"))
	require.Equal(t, []string{"zhang webchat 7 1 approve 同意上线"}, ap.decided)
	body := get(mux, "/console/requests/7?done=approve", "zhang").Body.String()
	require.Contains(t, body, `id="outcome"`)
	require.Contains(t, body, "已记录您的处理：同意。")

	ap.waiting = 1
	w = post(mux, "/console/requests/7/decide?unit=edu", "zhang", url.Values{"verb": {"approve"}, "step": {"1"}})
	require.Equal(t, "/console/requests/7?done=approve&missing=1&unit=edu#outcome", w.Header().Get("Location"))
	require.Contains(t, get(mux, "/console/requests/7?done=approve&missing=1", "zhang").Body.String(), "本步骤还需 1 人同意。")

	ap.err = core.Invalid("note_required", "id", "7", "verb", "reject")
	w = post(mux, "/console/requests/7/decide", "zhang", url.Values{"verb": {"reject"}, "step": {"1"}})
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, w.Body.String(), "explained: note_required 在页面的“理由或结果”框中写明后再提交")
	ap.err = core.AlreadyDecided("already_decided", "id", "7")
	require.Equal(t, http.StatusConflict, post(mux, "/console/requests/7/decide", "zhang", url.Values{"verb": {"approve"}}).Code)

	n := len(ap.decided)
	w = post(mux, "/console/requests/7/decide", "zhang", url.Values{"verb": {"approve"}}, "X-Test-Scope", "read")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "explained: read_only_token")
	require.Len(t, ap.decided, n, "a read-only token decides nothing")
	require.Equal(t, http.StatusMethodNotAllowed, get(mux, "/console/requests/7/decide", "zhang").Code)
}

// TestRequestList: waiting for me and mine, each linking to its page;
// the unit filter narrows inside the scope.
func TestRequestList(t *testing.T) {
	t.Parallel()
	mux, _ := newPagesConsole(t, bot.LangZH)
	body := get(mux, "/console/requests", "zhang").Body.String()
	waiting, mine, ok := strings.Cut(body, `id="mine"`)
	require.True(t, ok)
	require.Contains(t, waiting, `<a href="/console/requests/7">#7 考勤系统上线</a>`)
	require.Contains(t, waiting, "2小时30分钟")
	require.Contains(t, mine, `<a href="/console/requests/8">#8 清理日志</a>`)
	body = get(mux, "/console/requests?unit=edu", "zhang").Body.String()
	require.Contains(t, body, `href="/console/requests/7?unit=edu"`)
	require.NotContains(t, body, "#8 清理日志", "west is outside the filter")
}

// TestTicketPage: a ticket's page shows what /ticket show shows, its
// clock in the same words; core's refusal is the chat's reason with 403.
func TestTicketPage(t *testing.T) {
	t.Parallel()
	mux, _ := newPagesConsole(t, bot.LangZH)
	w := get(mux, "/console/tickets/12", "zhang")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	body := w.Body.String()
	for _, want := range []string{"工单 #12", "VPN 无法登录", "技术", `<span id="asker">zhengmin</span>`, `<span id="holders">sunli、zhoujie</span>`,
		`<span id="due">2026-11-24 17:00</span>`, `<b id="remaining" class="">` + bot.TicketClock(bot.LangZH, ticket.Clock{Running: true, Remaining: 330 * time.Minute}) + "</b>",
		"5小时30分钟", `data-kind="open"`, `data-key="sla" class="on"`} {
		require.Contains(t, body, want)
	}
	body = get(mux, "/console/tickets/13", "zhang").Body.String()
	require.Contains(t, body, `<b id="remaining" class="paused">2小时（已暂停，等待提问人）</b>`)
	require.Contains(t, body, "自 2026-11-24 10:00 起暂停")
	w = get(mux, "/console/tickets/12", "member")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "explained: ticket_forbidden")
	require.Equal(t, http.StatusNotFound, get(mux, "/console/tickets/14", "zhang").Code)
}

// TestLinksToPages: the overview's waiting approvals and due and overdue
// tickets, and the SLA board's rows, link to their pages.
func TestLinksToPages(t *testing.T) {
	t.Parallel()
	mux, _ := newPagesConsole(t, bot.LangZH)
	body := get(mux, "/console/?unit=edu", "zhang").Body.String()
	require.Contains(t, body, `<a href="/console/requests/7?unit=edu">#7 考勤系统上线</a>`)
	require.Contains(t, body, `<a href="/console/tickets/12?unit=edu">#12 VPN 无法登录</a>`)
	require.Contains(t, body, `<a href="/console/tickets/13?unit=edu">#13 账号被锁定</a>`)
	require.Contains(t, get(mux, "/console/overview/live", "zhang").Body.String(), `<a href="/console/requests/7">`)
	require.Contains(t, get(mux, "/console/sla", "zhang").Body.String(), `<a href="/console/tickets/12">#12 VPN 无法登录</a>`)
	require.Contains(t, body, `data-key="requests"`, "the nav has the requests page")
}
