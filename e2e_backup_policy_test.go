package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBackupPolicyFields (W 8.4.1, W 8.4.3 c): a backup plan records its
// location, retention, method and owner (an org user); /backup plan set
// changes them (audited before → after) and /backup plan show shows them;
// the monthly backup audit lists the plans missing any of them.
func TestBackupPolicyFields(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 08:00")}
	a := startAppWith(t, clock)

	requireRefused(t, a.say("sunli", "/backup plan add cmdb --daily 10:00 --owner nobody"), "责任人 nobody 不是组织中的用户")
	requireRefused(t, a.say("sunli", "/backup plan add cmdb --daily 10:00 --method copy"), "备份方式“copy”无效")
	requireRefused(t, a.say("sunli", "/backup plan add cmdb --daily 10:00 --retention forever"), "保留期限“forever”无效")
	r := a.say("sunli", `/backup plan add cmdb --daily 10:00 --location "异地机房 NAS /backup/cmdb" --method full+incremental --owner zhoujie`)
	requireOK(t, r)
	require.Contains(t, r.all(), "备份策略缺少：保留期限")
	require.Contains(t, r.all(), "全量+增量")
	// Chinese flag names, a complete policy.
	requireOK(t, a.say("sunli", "/备份 计划 添加 web --daily 10:00 --存放位置 本地磁盘 --保留期限 30d --备份方式 snapshot --责任人 sunli"))
	// A plan with no policy at all.
	requireOK(t, a.say("sunli", "/backup plan add oa --daily 10:00"))

	requireRefused(t, a.say("sunli", "/backup plan set cmdb"), "请至少给出一项")
	requireRefused(t, a.say("zhengmin", "/backup plan set cmdb --retention 6m"), "运营方")
	r = a.say("sunli", "/backup plan set cmdb --retention 6m --owner sunli")
	requireOK(t, r)
	require.Contains(t, r.all(), "保留期限: 未填 → 6m")
	require.Contains(t, r.all(), "责任人: 周杰 → 孙丽")
	show := a.say("zhoujie", "/backup plan show cmdb").all()
	for _, want := range []string{"存放位置: 异地机房 NAS /backup/cmdb", "保留期限: 6m", "备份方式: 全量+增量", "责任人: 孙丽"} {
		require.Contains(t, show, want)
	}
	trail := a.say("admin", "/audit backup-plan:1").all()
	require.Contains(t, trail, "修改备份计划 #1 的保留策略")

	clock.Set(at("2026-12-01 09:00"))
	var card wmsg
	eventually(t, "audit card on the 1st", func() bool {
		c, ok := a.refCard("admin", "backup-audit:2026-11")
		card = c
		return ok
	})
	all := card.all()
	require.Contains(t, all, "问题（备份策略不全）")
	require.Contains(t, all, "oa：缺少存放位置、保留期限、备份方式、责任人")
	require.False(t, strings.Contains(all, "cmdb：缺少") || strings.Contains(all, "web：缺少"), all)
}
