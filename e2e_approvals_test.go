package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var requestNo = regexp.MustCompile(`#(\d+)`)

// submit sends a request command and returns the new request's number.
func (a *app) submit(user, text string) int {
	a.t.Helper()
	r := a.say(user, text)
	require.Equalf(a.t, "ok", r.Status, "%s: %s", text, r.all())
	m := requestNo.FindStringSubmatch(r.Title)
	require.NotNil(a.t, m, r.Title)
	n, _ := strconv.Atoi(m[1])
	return n
}

// card waits for the card of request id's step in user's inbox, with buttons.
func (a *app) card(user string, id, step int) wmsg {
	a.t.Helper()
	ref := fmt.Sprintf("request:%d#%d", id, step)
	var found wmsg
	require.Eventuallyf(a.t, func() bool {
		for _, m := range a.inbox(user) {
			if m.Ref == ref && len(m.Buttons) > 0 && m.To["user"] == user {
				found = m
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "no card %s for %s", ref, user)
	return found
}

// noCard checks user got no card for request id's step.
func (a *app) noCard(user string, id, step int) {
	a.t.Helper()
	ref := fmt.Sprintf("request:%d#%d", id, step)
	for _, m := range a.inbox(user) {
		if m.To["user"] == user {
			require.NotEqualf(a.t, ref, m.Ref, "%s should not get %s", user, ref)
		}
	}
}

// press taps the card's button for action and returns the reply.
func (a *app) press(user string, card wmsg, action string) wmsg {
	a.t.Helper()
	for _, b := range card.Buttons {
		if b.Action == action {
			return a.click(user, card.ID, b.Action, b.Value)
		}
	}
	a.t.Fatalf("card %s has no %s button: %+v", card.Ref, action, card.Buttons)
	return wmsg{}
}

// updated waits until user's copy of card is updated (no buttons left) and returns it.
func (a *app) updated(user string, card wmsg) wmsg {
	a.t.Helper()
	var found wmsg
	require.Eventuallyf(a.t, func() bool {
		for _, m := range a.inbox(user) {
			if m.ID == card.ID && m.Revision > card.Revision && len(m.Buttons) == 0 {
				found = m
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond, "card %s of %s was not updated", card.Ref, user)
	return found
}

func requireOK(t *testing.T, m wmsg) {
	t.Helper()
	require.Equalf(t, "ok", m.Status, m.all())
}

func requireRefused(t *testing.T, m wmsg, want string) {
	t.Helper()
	require.Equalf(t, "error", m.Status, m.all())
	require.Contains(t, m.Text, want)
}

func TestApprovalAppOnboardingSingleUnit(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	requireOK(t, a.say("zhangwei", "/org role grant zhengmin unit_contact"))
	// A member of another unit may not ask.
	requireRefused(t, a.say("maxin", "/app online kaoqin"), "接入方或归属单位")
	id := a.submit("zhengmin", "/app online kaoqin --note 高频应用优先")
	// The owner unit's admin gets the card; the channel too; another unit's admin not.
	card := a.card("zhangwei", id, 1)
	a.noCard("chenjing", id, 1)
	require.Contains(t, card.Title, "待审批")
	require.Contains(t, card.all(), "高频应用优先")
	// Someone not eligible is refused and nothing changes.
	requireRefused(t, a.click("liqiang", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不是申请")
	r := a.press("zhangwei", card, "approval.approve")
	requireOK(t, r)
	require.Contains(t, r.all(), "申请系统测试")
	upd := a.updated("zhangwei", card)
	require.Contains(t, upd.Title, "同意")
	require.Contains(t, upd.Text, "张伟")
	// A second click on the stale card changes nothing and says who decided.
	again := a.press("zhangwei", card, "approval.approve")
	requireRefused(t, again, "已由 张伟 于")
	// The requester hears; an operator executes.
	a.waitNotice("zhengmin", "：张伟 同意")
	// W 5.6 a: the system test before it goes online.
	requireOK(t, a.say("zhengmin", fmt.Sprintf("/app systest %d request", id)))
	requireOK(t, a.say("sunli", fmt.Sprintf(`/app systest %d pass --note "功能测试通过"`, id)))
	exec := a.card("sunli", id, 4)
	requireOK(t, a.press("sunli", exec, "approval.done"))
	a.waitNotice("zhengmin", "已完成")
	r = a.say("zhangwei", "/app show kaoqin")
	require.Contains(t, r.all(), "已上线")
	// The channel gets the announcement.
	a.waitNotice("admin", "考勤系统（kaoqin）已上线")
	r = a.say("zhengmin", fmt.Sprintf("/request show %d", id))
	requireOK(t, r)
	require.Contains(t, r.Text, "张伟（网页聊天）同意")
	require.Contains(t, r.Text, "孙丽（网页聊天）已完成")
}

func TestApprovalOffboardingCrossUnitAndSelfApproval(t *testing.T) {
	a := startApp(t)
	// The demo app is cross-unit: the sys admin approves its offboarding.
	requireOK(t, a.say("chenjing", "/org role grant huangyu unit_contact"))
	g := a.submit("chenjing", "/app grant sjsj --to huangyu --kind visible")
	requireOK(t, a.press("wangfang", a.card("wangfang", g, 1), "approval.approve"))
	// M 7.1.2.2 b: the owner unit's admin agrees first, then the sys admin.
	id := a.submit("wuhao", "/app offline sjsj --note 系统迁移")
	card := a.card("chenjing", id, 1)
	require.Contains(t, card.Title, "归属单位同意")
	a.noCard("admin", id, 1)
	requireRefused(t, a.click("admin", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不是申请")
	requireOK(t, a.press("chenjing", card, "approval.approve"))
	requireOK(t, a.press("admin", a.card("admin", id, 2), "approval.approve"))
	requireOK(t, a.press("zhoujie", a.card("zhoujie", id, 3), "approval.done"))
	r := a.say("wuhao", "/app access sjsj")
	require.Contains(t, r.Text, "尚无授权", "offboarding revokes the app's grants")
	// A unit admin asking for their own unit's app: they cannot approve it;
	// the district admin covering the unit gets it instead.
	requireOK(t, a.say("zhangwei", "/app register jiaowu 教务系统 --owner dc-edu --scope unit"))
	id = a.submit("zhangwei", "/app online jiaowu")
	requireRefused(t, a.click("zhangwei", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不能审批自己提交的申请")
	requireOK(t, a.press("liqiang", a.card("liqiang", id, 1), "approval.approve"))
}

// TestApprovalCrossUnitOnboarding (M 7.1.1 b): a cross-unit app's
// onboarding goes to its owner unit's admin, then to the sys admin, then
// to an operator.
func TestApprovalCrossUnitOnboarding(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope cross"))
	requireOK(t, a.say("zhangwei", "/org role grant zhengmin unit_contact"))
	id := a.submit("zhengmin", "/app online kaoqin")
	a.noCard("admin", id, 1)
	requireRefused(t, a.click("admin", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不是申请")
	first := a.card("zhangwei", id, 1)
	require.Contains(t, first.all(), "第 1/5 步：归属单位同意")
	r := a.press("zhangwei", first, "approval.approve")
	requireOK(t, r)
	require.Contains(t, r.all(), "系统管理员")
	a.noCard("zhangwei", id, 2)
	requireOK(t, a.press("admin", a.card("admin", id, 2), "approval.approve"))
	requireOK(t, a.press("zhengmin", a.card("zhengmin", id, 3), "approval.test_request"))
	requireOK(t, a.press("sunli", a.card("sunli", id, 4), "approval.test_pass"))
	requireOK(t, a.press("sunli", a.card("sunli", id, 5), "approval.done"))
	require.Contains(t, a.say("zhangwei", "/app show kaoqin").all(), "已上线")
	r = a.say("zhengmin", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.Text, "张伟（网页聊天）同意 · 第 1/5 步：归属单位同意")
	require.Contains(t, r.Text, "系统管理员（网页聊天）同意 · 第 2/5 步：审批")
}

func TestApprovalReleaseWithUAT(t *testing.T) {
	a := startApp(t)
	requireRefused(t, a.say("wuhao", "/app release sjsj v2.1"), "缺少必填参数 --notes")
	id := a.submit("wuhao", `/app release sjsj v2.1 --notes "新增抽查结果公示"`)
	// City-level app: the sys admin approves.
	requireOK(t, a.press("admin", a.card("admin", id, 1), "approval.approve"))
	// The access party requests UAT; an operator fails it with a reason.
	requireOK(t, a.press("wuhao", a.card("wuhao", id, 2), "approval.uat_request"))
	uat := a.card("sunli", id, 3)
	prompt := a.press("sunli", uat, "approval.fail")
	requireOK(t, prompt)
	require.Contains(t, prompt.Text, fmt.Sprintf("/app uat %d fail --note", id))
	requireRefused(t, a.say("sunli", fmt.Sprintf("/app uat %d fail", id)), "需要写明理由")
	requireOK(t, a.say("sunli", fmt.Sprintf(`/app uat %d fail --note "登录页报错"`, id)))
	a.waitNotice("wuhao", "登录页报错")
	// Failed UAT sends it back: the access party requests UAT again.
	requireOK(t, a.say("wuhao", fmt.Sprintf("/app uat %d request", id)))
	requireOK(t, a.press("zhoujie", a.card("zhoujie", id, 3), "approval.pass"))
	// The operator tells the city admin and posts the release notice.
	requireOK(t, a.press("zhoujie", a.card("zhoujie", id, 4), "approval.publish"))
	a.waitNotice("admin", "已通过 UAT，更新公告已发布")
	a.waitNotice("sunli", "【更新公告】")
	// The access party confirms the release.
	requireOK(t, a.press("wuhao", a.card("wuhao", id, 5), "approval.confirm"))
	r := a.say("wuhao", "/app show sjsj")
	require.Contains(t, r.all(), "v2.1")
	r = a.say("wuhao", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.all(), "已完成")
	require.Contains(t, r.Text, "UAT不通过 · 第 3/5 步：UAT测试：登录页报错")
}

func TestApprovalPermission(t *testing.T) {
	a := startApp(t)
	requireRefused(t, a.say("maxin", "/app grant sjsj --to maxin --kind visible"), "单位管理员或单位联络人")
	requireRefused(t, a.say("chenjing", "/app grant sjsj --to zhengmin --kind visible"), "单位管理员或单位联络人")
	requireRefused(t, a.say("zhangwei", "/app grant sjsj --to zhengmin --kind admin"), "权限类型")
	id := a.submit("zhangwei", "/app grant sjsj --to zhengmin --kind inapp:抽查结果查询")
	a.noCard("wangfang", id, 1)
	requireRefused(t, a.click("wangfang", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不是申请")
	card := a.card("liqiang", id, 1)
	// Reject asks for a reason first.
	requireOK(t, a.press("liqiang", card, "approval.reject"))
	requireOK(t, a.say("liqiang", fmt.Sprintf("/request reject %d 请先走单位内部审批", id)))
	a.waitNotice("zhangwei", "请先走单位内部审批")
	requireRefused(t, a.press("liqiang", card, "approval.approve"), "已由 李强 于")
	// A new request is approved and applied.
	id = a.submit("zhangwei", "/app grant sjsj --to dc-edu --kind visible")
	requireOK(t, a.press("liqiang", a.card("liqiang", id, 1), "approval.approve"))
	r := a.say("zhangwei", "/app access sjsj")
	require.Contains(t, r.Text, "unit:dc-edu · visible")
}

// nextWorkday returns the next Monday–Friday after today in Shanghai.
func nextWorkday() time.Time {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	d := time.Now().In(loc).AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func TestApprovalChange(t *testing.T) {
	clock := &testClock{now: time.Now()}
	a := startAppWith(t, clock)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	next := nextWorkday()
	day := next.Format("2006-01-02")
	base := `/change new "数据库扩容" --target sjsj-db --risk medium --plan "扩容并迁移" --rollback "切回旧实例" --test-plan "扩容前后读写校验" --steps "停写-扩容-校验" --staff sunli,zhoujie`
	r := a.say("sunli", base+` --window "`+day+` 10:00~`+day+` 11:00"`)
	requireRefused(t, r, "非紧急变更不能安排在工作日日间业务时段")
	require.Contains(t, r.Text, "建议窗口："+day+" 18:00~"+day+" 19:00")
	requireRefused(t, a.say("sunli", base+` --window "明天晚上"`), "变更窗口")
	requireRefused(t, a.say("zhengmin", base+` --window "`+day+` 22:00~02:00"`), "需要持有角色")
	id := a.submit("sunli", base+` --window "`+day+` 22:00~02:00"`)
	// The applicant cannot approve, nor can another operator; the sys admin does.
	requireRefused(t, a.click("sunli", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不能审批自己")
	requireRefused(t, a.click("zhoujie", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不是申请")
	requireOK(t, a.press("admin", a.card("admin", id, 1), "approval.approve"))
	// W 8.6 d: not before its window.
	requireRefused(t, a.say("sunli", fmt.Sprintf("/change start %d", id)), "窗口 "+day+" 22:00 开始后才能实施")

	// An emergency change in the daytime needs a second, different approver,
	// then may start at once, before its window.
	eid := a.submit("sunli", base+` --emergency --window "`+day+` 10:00~`+day+` 11:00"`)
	requireOK(t, a.press("admin", a.card("admin", eid, 1), "approval.approve"))
	requireRefused(t, a.click("admin", "", "approval.approve", fmt.Sprintf("request:%d#2", eid)), "另一人审批")
	requireOK(t, a.press("zhoujie", a.card("zhoujie", eid, 2), "approval.approve"))
	requireOK(t, a.say("sunli", fmt.Sprintf("/change start %d", eid)))

	// Inside its window the normal change starts.
	clock.Set(time.Date(next.Year(), next.Month(), next.Day(), 22, 5, 0, 0, loc))
	requireOK(t, a.say("sunli", fmt.Sprintf("/change start %d", id)))
	requireRefused(t, a.say("zhoujie", fmt.Sprintf("/change done %d --result 完成", id)), "只有开始实施的人")
	// W 8.6 e: not done without the record of the tests before and after.
	requireRefused(t, a.say("sunli", fmt.Sprintf(`/change done %d --result "扩容完成，读写正常"`, id)), "须提交变更前后的测试记录")
	requireOK(t, a.say("sunli", fmt.Sprintf(`/change done %d --result "扩容完成，读写正常" --test-before "扩容前读写正常" --test-after "扩容后读写正常"`, id)))
	requireRefused(t, a.say("sunli", fmt.Sprintf("/change review %d ok", id)), "复核人不能是实施人")
	requireOK(t, a.say("zhoujie", fmt.Sprintf("/change review %d ok --note 指标正常", id)))
	r = a.say("sunli", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.all(), "已完成")
	require.Contains(t, r.all(), "扩容完成，读写正常")
}

// TestApprovalChangeWindowOnTheClock (W 8.6 d): the approver narrows the
// window; the change is refused before it and starts inside it; another
// change whose window passes unstarted expires, and its requester and
// approver are told.
func TestApprovalChangeWindowOnTheClock(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, loc)} // a Wednesday
	a := startAppWith(t, clock)
	base := `/change new "数据库扩容" --target sjsj-db --risk medium --plan "扩容并迁移" --rollback "切回旧实例" --test-plan "扩容前后读写校验" --steps "停写-扩容-校验" --staff sunli,zhoujie`
	id := a.submit("sunli", base+` --window "2026-12-02 22:00~2026-12-03 02:00"`)
	late := a.submit("zhoujie", base+` --window "2026-12-02 20:00~2026-12-02 21:00"`)
	requireRefused(t, a.say("admin", fmt.Sprintf(`/request approve %d --window "2026-12-02 16:00~2026-12-02 19:00"`, id)), "日间业务时段")
	r := a.say("admin", fmt.Sprintf(`/request approve %d 请缩短窗口 --window "2026-12-02 23:00~2026-12-03 01:00"`, id))
	requireOK(t, r)
	card := a.card("sunli", id, 2)
	require.Contains(t, card.all(), "批准窗口: 2026-12-02 23:00 ~ 2026-12-03 01:00")
	require.Contains(t, card.all(), "变更窗口: 2026-12-02 22:00 ~ 2026-12-03 02:00")
	requireOK(t, a.press("admin", a.card("admin", late, 1), "approval.approve"))

	clock.Set(time.Date(2026, 12, 2, 20, 30, 0, 0, loc))
	requireRefused(t, a.say("sunli", fmt.Sprintf("/change start %d", id)), "批准窗口为 2026-12-02 23:00 ~ 2026-12-03 01:00，窗口 2026-12-02 23:00 开始后才能实施")
	// The other change's window passes unstarted: it expires, and both hear.
	clock.Set(time.Date(2026, 12, 2, 21, 0, 30, 0, loc))
	a.waitNotice("zhoujie", fmt.Sprintf("变更 #%d（数据库扩容）的窗口 2026-12-02 20:00 ~ 2026-12-02 21:00 已结束，未开始实施，已过期", late))
	a.waitNotice("admin", fmt.Sprintf("变更 #%d 已过期", late))
	requireRefused(t, a.say("zhoujie", fmt.Sprintf("/change start %d", late)), "已过期")
	require.Contains(t, a.say("zhoujie", fmt.Sprintf("/request show %d", late)).all(), "状态: 已过期")

	clock.Set(time.Date(2026, 12, 2, 23, 5, 0, 0, loc))
	requireOK(t, a.say("sunli", fmt.Sprintf("/change start %d", id)))
	r = a.say("sunli", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.Text, "系统管理员（网页聊天）同意 · 第 1/4 步：审批：请缩短窗口")
	code, out := a.auditVerify()
	require.Equal(t, 0, code, out)
	var n int
	require.NoError(t, a.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = 'request.approve' AND after::text LIKE '%2026-12-02 23:00 ~ 2026-12-03 01:00%'`).Scan(&n))
	require.Equal(t, 1, n, "the approved window is audited")
	require.NoError(t, a.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = 'change.expire' AND entity = $1`, fmt.Sprintf("request:%d", late)).Scan(&n))
	require.Equal(t, 1, n, "the expiry is audited")
}

func TestApprovalDualPersonOperation(t *testing.T) {
	a := startApp(t)
	requireRefused(t, a.say("zhengmin", `/op request 清理日志 --reason 磁盘将满`), "运营方")
	id := a.submit("sunli", `/op request "清理 /var/log 旧日志" --reason "磁盘使用率 92%"`)
	a.noCard("sunli", id, 1)
	requireRefused(t, a.click("sunli", "", "approval.approve", fmt.Sprintf("request:%d#1", id)), "不能审批自己")
	// The operation may not start before two approvals.
	requireRefused(t, a.say("sunli", fmt.Sprintf("/op done %d --result 已清理", id)), "不能已完成")
	card := a.card("admin", id, 1)
	r := a.press("admin", card, "approval.approve")
	requireOK(t, r)
	require.Contains(t, r.all(), "还需 1 人同意")
	requireRefused(t, a.press("admin", card, "approval.approve"), "双人审批需要另一位审批人")
	requireOK(t, a.press("zhoujie", a.card("zhoujie", id, 1), "approval.approve"))
	// W 8.2 a/c: executed by two people. The requester executes; a checker
	// other than the requester, the approvers and the executor confirms.
	requireRefused(t, a.say("sunli", fmt.Sprintf("/op done %d --result 已清理 12GB", id)), "没有人能处理“复核”步骤")
	requireOK(t, a.say("admin", "/org role grant huangyu operator"))
	requireOK(t, a.say("sunli", fmt.Sprintf("/op done %d --result 已清理 12GB", id)))
	r = a.say("admin", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.all(), "处理中", "not complete before the check")
	require.Contains(t, r.all(), "第 3/3 步：复核 · 黄宇")
	requireRefused(t, a.say("sunli", fmt.Sprintf("/op check %d ok", id)), "复核人不能是申请人")
	requireRefused(t, a.say("zhoujie", fmt.Sprintf("/op check %d ok", id)), "复核人不能是审批人")
	requireRefused(t, a.say("admin", fmt.Sprintf("/op check %d ok", id)), "复核人不能是审批人")
	requireRefused(t, a.say("huangyu", fmt.Sprintf("/op check %d 也许", id)), "复核结论")
	check := a.card("huangyu", id, 3)
	require.Contains(t, check.all(), "已清理 12GB")
	requireOK(t, a.press("huangyu", check, "approval.ok"))
	a.waitNotice("sunli", "黄宇 复核通过")
	r = a.say("admin", fmt.Sprintf("/request show %d", id))
	require.Contains(t, r.all(), "已完成")
	require.Equal(t, 2, strings.Count(r.Text, "同意 · 第 1/3 步"))
	require.Contains(t, r.Text, "孙丽（网页聊天）已完成 · 第 2/3 步：执行：已清理 12GB")
	require.Contains(t, r.Text, "黄宇（网页聊天）复核通过 · 第 3/3 步：复核")
	require.Contains(t, r.all(), "复核人: 黄宇")
	require.Contains(t, r.all(), "复核结论: 复核通过")
}

func TestApprovalListCancelAndShow(t *testing.T) {
	a := startApp(t)
	id := a.submit("wuhao", `/app release sjsj v3 --notes 修复`)
	r := a.say("admin", "/request list --pending")
	require.Contains(t, r.Text, fmt.Sprintf("#%d 版本发布", id))
	r = a.say("wuhao", "/request list --mine")
	require.Contains(t, r.Text, fmt.Sprintf("#%d 版本发布", id))
	requireRefused(t, a.say("zhengmin", fmt.Sprintf("/request show %d", id)), "无权查看")
	requireRefused(t, a.say("admin", fmt.Sprintf("/request cancel %d", id)), "只有申请人")
	card := a.card("admin", id, 1)
	requireOK(t, a.say("wuhao", fmt.Sprintf("/request cancel %d", id)))
	upd := a.updated("admin", card)
	require.Contains(t, upd.Title, "撤回")
	requireRefused(t, a.press("admin", card, "approval.approve"), "已由 吴昊 于")
	require.Contains(t, a.press("admin", card, "approval.approve").Text, "撤回")
	requireRefused(t, a.say("wuhao", "/request show 9999"), "不存在")
}
