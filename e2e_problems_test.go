package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProblemLifecycleMustShow (W 8.5 e–i), through the webchat API with
// a controlled clock: a level-II incident resolved proposes problem #1
// owned by its owner, who is told; the steps are refused out of order;
// the owner is reminded on the due date and xc-market's admin told the
// day after; then 分析 → 根因 → 解决 (free reference) → 关闭 in Chinese;
// a review action is marked done by its owner and shown as done.
func TestProblemLifecycleMustShow(t *testing.T) {
	now := time.Now()
	clock := &testClock{now: now}
	a := startAppWith(t, clock)
	requireOK(t, a.say("huangyu", "/incident declare 双随机抽查系统无法登录 --level 2 --unit xc-market"))
	requireOK(t, a.say("chenjing", "/incident assign 1 huangyu"))
	requireOK(t, a.say("huangyu", "/incident resolve 1 已重启恢复"))
	a.waitNotice("huangyu", "Ⅰ/Ⅱ级事件 #1 已解决，已提出问题 #1")
	require.Contains(t, a.say("huangyu", "/problem show 1").all(), "待分析")
	require.Contains(t, a.say("huangyu", "/problem list").all(), "由Ⅰ/Ⅱ级事件 #1 解决时提出", "not the repeats rule")

	requireRefused(t, a.say("huangyu", "/问题 根因 1 连接池耗尽"), "不能记录根因：需要先到「分析中」")
	requireRefused(t, a.say("huangyu", "/problem close 1"), "需要先到「已解决」")
	requireRefused(t, a.say("maxin", "/problem analyse 1"), "只有问题 #1 的负责人（黄宇）")

	loc, _ := time.LoadLocation("Asia/Shanghai")
	due := now.In(loc).AddDate(0, 0, 2)
	requireOK(t, a.say("chenjing", "/问题 指派 1 huangyu --期限 "+due.Format("2006-01-02")))
	clock.Set(time.Date(due.Year(), due.Month(), due.Day(), 9, 0, 1, 0, loc))
	a.waitNotice("huangyu", "问题 #1（#1: 双随机抽查系统无法登录）期限为")
	clock.Set(time.Date(due.Year(), due.Month(), due.Day()+1, 9, 0, 1, 0, loc))
	a.waitNotice("chenjing", "黄宇 负责的问题 #1")

	requireOK(t, a.say("huangyu", "/问题 分析 1"))
	requireOK(t, a.say("huangyu", "/问题 根因 1 连接池耗尽"))
	requireRefused(t, a.say("huangyu", "/problem resolve 1"), "--change <变更申请号> 或 --ref <说明>")
	requireRefused(t, a.say("huangyu", "/problem resolve 1 --change 999"), "变更申请 #999 不存在")
	requireOK(t, a.say("huangyu", "/问题 解决 1 --引用 连接池上限调至200"))
	requireOK(t, a.say("huangyu", "/问题 关闭 1"))
	shown := a.say("huangyu", "/problem show 1").all()
	require.Contains(t, shown, "已关闭")
	require.Contains(t, shown, "连接池上限调至200")

	requireOK(t, a.say("huangyu", "/incident review 1 --cause 连接池耗尽 --actions 连接池告警@huangyu@2099-12-01"))
	requireRefused(t, a.say("maxin", "/incident action done 1 1"), "只有措施负责人（黄宇）")
	requireOK(t, a.say("huangyu", "/事件 措施 完成 1 1"))
	require.Contains(t, a.say("huangyu", "/incident show 1").all(), "连接池告警 · 黄宇 · 2099-12-01 · 已完成")
}
