package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChangeDoneNeedsTestRecord (W 8.6 b/e): a change carries its test
// plan, steps, staff and rollback, all on its card; /change done without
// the record of the tests before and after is refused with the reason;
// the change is linked to the problem it fixes.
func TestChangeDoneNeedsTestRecord(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clock := &testClock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, loc)} // a Wednesday
	a := startAppWith(t, clock)
	base := `/change new "数据库扩容" --target sjsj-db --risk medium --plan "扩容并迁移" --rollback "切回旧实例" --window "2026-12-02 22:00~2026-12-03 02:00"`
	requireRefused(t, a.say("sunli", base), "缺少：--test-plan --steps --staff")
	requireRefused(t, a.say("sunli", base+` --test-plan "读写校验" --steps "停写-扩容-校验" --staff sunli,nobody`), "nobody 不是已登记的用户")
	id := a.submit("sunli", base+` --test-plan "扩容前后读写校验" --steps "停写-扩容-校验" --staff sunli,zhoujie`)
	card := a.card("admin", id, 1)
	for _, want := range []string{"测试方案: 扩容前后读写校验", "操作步骤: 停写-扩容-校验", "实施人员: 孙丽、周杰", "回退方案: 切回旧实例"} {
		require.Contains(t, card.all(), want)
	}
	requireOK(t, a.press("admin", card, "approval.approve"))
	clock.Set(time.Date(2026, 12, 2, 22, 5, 0, 0, loc))
	requireOK(t, a.say("sunli", fmt.Sprintf("/change start %d", id)))
	// Must show: done without the test record is refused with the reason, nothing moves.
	r := a.say("sunli", fmt.Sprintf(`/change done %d --result "扩容完成"`, id))
	requireRefused(t, r, fmt.Sprintf("变更 #%d 须提交变更前后的测试记录才能完成（W 8.6 e）", id))
	require.Contains(t, r.Text, "--test-before … --test-after …")
	requireRefused(t, a.say("sunli", fmt.Sprintf(`/change done %d --result "扩容完成" --test-before "读写正常"`, id)), "测试记录")
	requireRefused(t, a.say("sunli", fmt.Sprintf("/request done %d 扩容完成", id)), "测试记录")
	require.Contains(t, a.say("sunli", fmt.Sprintf("/request show %d", id)).all(), "实施完成")
	requireOK(t, a.say("sunli", fmt.Sprintf(`/change done %d --result "扩容完成" --test-before "扩容前读写正常" --test-after "扩容后读写正常，延迟 3ms"`, id)))
	review := a.card("zhoujie", id, 4)
	require.Contains(t, review.all(), "变更前测试: 扩容前读写正常")
	require.Contains(t, review.all(), "变更后测试: 扩容后读写正常，延迟 3ms")
	// Linked to the problem it fixes.
	requireOK(t, a.say("sunli", `/problem add "数据库连接池耗尽" --system sjsj`))
	requireRefused(t, a.say("sunli", fmt.Sprintf("/change link %d 99", id)), "99")
	r = a.say("sunli", fmt.Sprintf("/change link %d 1", id))
	requireOK(t, r)
	require.Contains(t, r.Text, "已关联问题 #1 数据库连接池耗尽")
	require.Contains(t, a.say("sunli", fmt.Sprintf("/request show %d", id)).all(), "#1 数据库连接池耗尽")
}

// TestRevokeRequestRemovesTheGrant (M 5.2.2): a withdrawal follows the
// grant's route; approved, the grant is gone; without a grant it is refused.
func TestRevokeRequestRemovesTheGrant(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("chenjing", "/org role grant huangyu unit_contact"))
	requireRefused(t, a.say("chenjing", "/app revoke sjsj --from huangyu --kind visible"), "无可收回")
	g := a.submit("chenjing", "/app grant sjsj --to huangyu --kind visible")
	requireOK(t, a.press("wangfang", a.card("wangfang", g, 1), "approval.approve"))
	require.Contains(t, a.say("chenjing", "/app access sjsj").Text, "user:huangyu · visible")
	id := a.submit("chenjing", "/app revoke sjsj --from huangyu --kind visible")
	card := a.card("wangfang", id, 1)
	require.Contains(t, card.Title, "权限收回")
	requireOK(t, a.press("wangfang", card, "approval.approve"))
	require.Contains(t, a.say("chenjing", "/app access sjsj").Text, "尚无授权")
	a.waitNotice("chenjing", "王芳 同意")
}

// TestOnboardingWaitsForItsSystemTest (W 5.6 a): an approved onboarding
// cannot go online before its system test passes; a fail goes back to the
// access party with the reason.
func TestOnboardingWaitsForItsSystemTest(t *testing.T) {
	a := startApp(t)
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	requireOK(t, a.say("zhangwei", "/org role grant zhengmin unit_contact"))
	id := a.submit("zhengmin", "/app online kaoqin")
	requireOK(t, a.press("zhangwei", a.card("zhangwei", id, 1), "approval.approve"))
	// Not online before the test: the operator's done is refused.
	requireRefused(t, a.say("sunli", fmt.Sprintf("/request done %d", id)), "申请系统测试")
	requireRefused(t, a.say("sunli", fmt.Sprintf("/app systest %d pass", id)), "不能")
	requireOK(t, a.press("zhengmin", a.card("zhengmin", id, 2), "approval.test_request"))
	requireRefused(t, a.say("sunli", fmt.Sprintf("/request done %d", id)), "系统测试")
	requireRefused(t, a.say("sunli", fmt.Sprintf("/app systest %d fail", id)), "需要写明理由")
	requireOK(t, a.say("sunli", fmt.Sprintf(`/app systest %d fail --note "并发 200 时登录超时"`, id)))
	a.waitNotice("zhengmin", "并发 200 时登录超时")
	require.Contains(t, a.say("zhangwei", "/app show kaoqin").all(), "已登记")
	a.card("zhengmin", id, 2) // back to the access party
	requireOK(t, a.say("zhengmin", fmt.Sprintf("/app systest %d request --note 已扩容", id)))
	requireOK(t, a.say("zhoujie", fmt.Sprintf(`/app systest %d pass --note "功能、性能测试通过"`, id)))
	requireOK(t, a.press("sunli", a.card("sunli", id, 4), "approval.done"))
	require.Contains(t, a.say("zhangwei", "/app show kaoqin").all(), "已上线")
}

// TestOrgChangeAndBackupAccessRequests (M 4.2.3 b, W 8.4.3 c): a unit
// contact's org change goes to the district admin, who is then asked to
// carry it out; access to offline backup data is approved and registered.
func TestOrgChangeAndBackupAccessRequests(t *testing.T) {
	a := startApp(t)
	id := a.submit("zhaolei", `/org request 新增用户 钱明（民政科），设为单位联络人`)
	requireOK(t, a.press("wangfang", a.card("wangfang", id, 1), "approval.approve"))
	carry := a.card("wangfang", id, 2)
	require.Contains(t, carry.Title, "落实变更")
	require.Contains(t, carry.all(), "新增用户 钱明（民政科），设为单位联络人")
	requireOK(t, a.press("wangfang", carry, "approval.done"))
	a.waitNotice("zhaolei", "已完成")

	requireRefused(t, a.say("sunli", "/backup access request sjsj"), "--reason")
	b := a.submit("sunli", `/backup access request sjsj --reason "核对 11 月 20 日误删数据"`)
	require.Contains(t, a.say("zhoujie", "/backup access list").Text, "无")
	requireOK(t, a.press("admin", a.card("admin", b, 1), "approval.approve"))
	r := a.say("zhoujie", "/backup access list")
	requireOK(t, r)
	require.Contains(t, r.Text, "孙丽 · sjsj · 核对 11 月 20 日误删数据 · 系统管理员 批准")
	requireRefused(t, a.say("zhangwei", "/backup access list"), "运营方和系统总管理员")
}
