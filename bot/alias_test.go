package bot

import (
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// zhWordsFor lists the Chinese words that resolve to word after parent.
func zhWordsFor(parent []string, word string) []string {
	var out []string
	for _, m := range []map[string]string{aliases, scopedAliases[strings.Join(parent, " ")]} {
		for z := range m {
			if hasHan(z) && canonicalNext(parent, z) == word && !contains(out, z) {
				out = append(out, z)
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEveryCommandHasChineseAlias walks the command catalog: each word of
// each command path has a Chinese alias at its position, the Chinese path
// finds the same command, its help and its topic have Chinese text, and no
// Chinese word at one position stands for two of its sibling words.
func TestEveryCommandHasChineseAlias(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	cmds := b.router.Commands()
	require.Greater(t, len(cmds), 40)
	children := map[string]map[string]bool{} // parent path → next words
	for _, c := range cmds {
		words := strings.Fields(c.Path)
		zhPath := make([]string, len(words))
		for i, w := range words {
			p := strings.Join(words[:i], " ")
			if children[p] == nil {
				children[p] = map[string]bool{}
			}
			children[p][w] = true
			zs := zhWordsFor(words[:i], w)
			require.NotEmptyf(t, zs, "/%s: the word %q has no Chinese alias after %q (bot/parse.go aliases or scopedAliases)", c.Path, w, p)
			zhPath[i] = zs[0]
		}
		got, _, _, _ := b.router.Match(zhPath) // missing arguments still name the command
		require.NotNilf(t, got, "/%s: the Chinese path /%s finds no command", c.Path, strings.Join(zhPath, " "))
		require.Equalf(t, c.Path, got.Path, "the Chinese path /%s finds another command", strings.Join(zhPath, " "))
		require.Truef(t, hasHan(zh["help."+c.Path]), "/%s: help.%s has no Chinese text", c.Path, c.Path)
		require.Truef(t, hasHan(zh["help."+c.Topic]), "/%s: its topic help.%s has no Chinese name", c.Path, c.Topic)
	}
	for p, next := range children {
		scoped := scopedAliases[p]
		for z, w := range aliases {
			if s, ok := scoped[z]; ok && s != w && next[s] && next[w] {
				t.Errorf("after %q the Chinese word %q stands for both %q and %q", p, z, w, s)
			}
		}
	}
	for p := range scopedAliases {
		_, ok := children[p]
		require.Truef(t, ok, "scopedAliases names %q, which no command path starts with", p)
	}
}

// TestChineseCommands: the examples of issue 18 reach their commands.
func TestChineseCommands(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	for line, want := range map[string]string{
		"事件 申报": "incident declare", "值班 当前": "duty now", "应用 上线": "app online", "变更 新建": "change new",
		"申请 列表": "request list", "工单 提交": "ticket open", "巡检 计划 列表": "inspect plan list", "备份 审计": "backup audit",
		"日报": "digest", "日历 查看": "calendar show", "审计 导出": "audit export", "问题 列表": "problem list",
		"报表 事件": "report incidents", "报表 巡检": "report inspections", "帮助": "help",
	} {
		c, _, _, err := b.router.Match(strings.Fields(line))
		require.NotNilf(t, c, "/%s: %v", line, err)
		require.Equalf(t, want, c.Path, "/%s", line)
	}
	msgs, err := b.help(t.Context(), &Request{Args: []string{"事件"}})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Contains(t, msgs[0].Title, "事件与值班")
	require.Contains(t, msgs[0].Text, "/incident declare")
}
