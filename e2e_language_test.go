package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUserLanguage (issue 18): /lang en switches one user's replies and
// notices to English; everyone else stays in the default,
// Chinese; /语言 中文 switches back.
func TestUserLanguage(t *testing.T) {
	a := startApp(t)
	r := a.say("huangyu", "/lang")
	requireOK(t, r)
	require.Contains(t, r.all(), "中文")
	requireRefused(t, a.say("huangyu", "/lang fr"), "不支持的语言“fr”")

	r = a.say("huangyu", "/lang en")
	requireOK(t, r)
	require.Contains(t, r.all(), "now in English")
	require.Contains(t, a.say("huangyu", "/help").all(), "opsbot commands")
	require.Contains(t, a.say("sunli", "/help").all(), "opsbot 命令")
	require.Contains(t, a.say("huangyu", "/帮助 事件").all(), "Declare an incident")

	// A notice to huangyu is rendered in English, the reply to chenjing in Chinese.
	requireOK(t, a.say("huangyu", "/incident declare 双随机抽查系统无法登录 --level 2 --unit xc-market"))
	require.Contains(t, a.say("chenjing", "/incident assign 1 huangyu").all(), "事件")
	requireOK(t, a.say("huangyu", "/incident resolve 1 已重启恢复"))
	a.waitNotice("huangyu", "Level I/II incident #1 was resolved")

	r = a.say("huangyu", "/语言 中文")
	requireOK(t, r)
	require.Contains(t, r.all(), "今后给你的回复和通知使用中文")
	require.Contains(t, a.say("huangyu", "/help").all(), "opsbot 命令")
}
