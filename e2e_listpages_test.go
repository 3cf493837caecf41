package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLongListsPage (issue 20 item 4): /org tree and /incident list show
// 20 lines a reply, name the command for the next page, and walk every
// line exactly once over the pages.
func TestLongListsPage(t *testing.T) {
	a := startApp(t)
	for i := 1; i <= 25; i++ {
		requireOK(t, a.say("admin", fmt.Sprintf("/org unit add pg%02d 测试区%02d --parent city --level district", i, i)))
	}
	for i := 1; i <= 23; i++ {
		requireOK(t, a.say("zhengmin", fmt.Sprintf("/incident declare 分页测试故障%02d --level 4", i)))
	}

	// walk reads every page of a list, checks each, and returns all lines.
	walk := func(cmd, marker string) []string {
		var all []string
		next := cmd
		for page := 1; next != ""; page++ {
			r := a.say("admin", next)
			requireOK(t, r)
			lines := strings.Split(r.Text, "\n")
			var items []string
			for _, l := range lines {
				if strings.Contains(l, marker) {
					items = append(items, l)
				}
			}
			require.LessOrEqual(t, len(items), 20, r.Text)
			all = append(all, items...)
			last := lines[len(lines)-1]
			next = ""
			if want := fmt.Sprintf("（第 %d 页；下一页：%s --page %d）", page, cmd, page+1); last == want {
				require.Len(t, lines[:len(lines)-1], 20, "a page followed by another is full")
				next = fmt.Sprintf("%s --page %d", cmd, page+1)
			} else if page > 1 {
				require.Equal(t, fmt.Sprintf("（第 %d 页，最后一页）", page), last)
			}
		}
		return all
	}
	units := walk("/org tree", "（pg")
	require.Len(t, units, 25)
	for i := 1; i <= 25; i++ {
		require.Equal(t, 1, strings.Count(strings.Join(units, "\n"), fmt.Sprintf("（pg%02d，", i)))
	}
	incidents := walk("/incident list", "分页测试故障")
	require.Len(t, incidents, 23)
	require.Contains(t, incidents[0], "分页测试故障23", "newest first")

	// The Chinese flag, a page past the end, and a page that is no number.
	requireOK(t, a.say("admin", "/org tree --页 2"))
	requireRefused(t, a.say("admin", "/incident list --page 99"), "没有第 99 页")
	requireRefused(t, a.say("admin", "/org tree --page 二"), "请写从 1 开始的整数")
}
