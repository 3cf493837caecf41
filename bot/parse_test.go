package bot

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{name: "plain", in: "org unit add a b", want: []string{"org", "unit", "add", "a", "b"}},
		{name: "ascii quotes keep spaces", in: `org unit rename x "New Name"`, want: []string{"org", "unit", "rename", "x", "New Name"}},
		{name: "chinese quotes", in: "org unit rename x “东城区 教育局”", want: []string{"org", "unit", "rename", "x", "东城区 教育局"}},
		{name: "full-width space", in: "组织\u3000树", want: []string{"组织", "树"}},
		{name: "em dash flag", in: "org user add a 张三 —unit dc", want: []string{"org", "user", "add", "a", "张三", "--unit", "dc"}},
		{name: "empty quotes", in: `x ""`, want: []string{"x", ""}},
		{name: "unclosed", in: `x "abc`, err: "unclosed_quote"},
		{name: "full-width slash", in: "／帮助", want: []string{"/帮助"}},
		{name: "full-width hyphens flag", in: "inspect plan add a －－workdays 09：00", want: []string{"inspect", "plan", "add", "a", "--workdays", "09:00"}},
		{name: "double em dash flag", in: "incident declare x ——level ４", want: []string{"incident", "declare", "x", "--level", "4"}},
		{name: "full-width digits and time", in: "duty swap ops ２０２６－１２－０１ 孙丽", want: []string{"duty", "swap", "ops", "2026-12-01", "孙丽"}},
		{name: "ideographic and no-break spaces", in: "组织\u3000\u3000树\u00a0dc", want: []string{"组织", "树", "dc"}},
		{name: "quoted text keeps full-width", in: "incident declare “网关：５０２——超时” ——level 2", want: []string{"incident", "declare", "网关：５０２——超时", "--level", "2"}},
		{name: "ascii quoted keeps full-width", in: `x "０９：００ －－a"`, want: []string{"x", "０９：００ －－a"}},
		{name: "unquoted free text keeps its punctuation", in: "warning issue 2 台风预警：今晚 A－B 数据库——恢复 —note 已恢复",
			want: []string{"warning", "issue", "2", "台风预警：今晚", "A－B", "数据库——恢复", "--note", "已恢复"}},
		{name: "mixed dashes", in: "x —-level 2", want: []string{"x", "--level", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenize(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRouterMatch(t *testing.T) {
	t.Parallel()
	rt := NewRouter()
	rt.Handle(&Command{Path: "org unit add", MinArgs: 2, MaxArgs: 2, Flags: map[string]bool{"parent": true, "level": true}, Required: []string{"parent", "level"}})
	rt.Handle(&Command{Path: "org tree", MaxArgs: 1})
	rt.Handle(&Command{Path: "incident update", MinArgs: 2, MaxArgs: -1})
	rt.Handle(&Command{Path: "request list", Flags: map[string]bool{"mine": false}})
	rt.Handle(&Command{Path: "op done", MinArgs: 1, MaxArgs: 1, Flags: map[string]bool{"result": true, "x": true}})
	tests := []struct {
		name      string
		line      string
		wantPath  string
		wantArgs  []string
		wantFlags map[string]string
		wantErr   string
	}{
		{name: "english", line: "org unit add dc 东城 --parent city --level district", wantPath: "org unit add",
			wantArgs: []string{"dc", "东城"}, wantFlags: map[string]string{"parent": "city", "level": "district"}},
		{name: "chinese words, flags and values", line: "组织 单位 添加 dc 东城 --上级 city --级别 区县", wantPath: "org unit add",
			wantArgs: []string{"dc", "东城"}, wantFlags: map[string]string{"parent": "city", "level": "district"}},
		{name: "upper case words", line: "ORG Tree", wantPath: "org tree", wantArgs: nil, wantFlags: map[string]string{}},
		{name: "rest joined", line: "incident update 7 restarted the db, watching", wantPath: "incident update",
			wantArgs: []string{"7", "restarted the db, watching"}, wantFlags: map[string]string{}},
		{name: "bool flag", line: "request list --mine", wantPath: "request list", wantFlags: map[string]string{"mine": "true"}},
		{name: "text flag takes the words up to the next flag", line: "op done 3 --result 已清理 12GB --x y", wantPath: "op done",
			wantArgs: []string{"3"}, wantFlags: map[string]string{"result": "已清理 12GB", "x": "y"}},
		{name: "unknown command", line: "frobnicate", wantErr: "unknown_command"},
		{name: "incomplete", line: "org unit", wantErr: "incomplete"},
		{name: "unknown flag", line: "org tree --color red", wantErr: "unknown_flag"},
		{name: "flag without value", line: "org unit add a b --parent --level unit", wantErr: "flag_value"},
		{name: "missing args", line: "org unit add a --parent c --level unit", wantErr: "missing_args"},
		{name: "extra args", line: "org tree a b", wantErr: "extra_args"},
		{name: "missing required flag", line: "org unit add a b --parent c", wantErr: "missing_flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := tokenize(tt.line)
			require.NoError(t, err)
			cmd, args, flags, err := rt.Match(toks)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantPath, cmd.Path)
			require.Equal(t, tt.wantArgs, args)
			require.Equal(t, tt.wantFlags, flags)
		})
	}
}

func TestT(t *testing.T) {
	t.Parallel()
	require.Equal(t, "单位 x 不存在。", T(LangZH, "err.unit_not_found", "code", "x"))
	require.Equal(t, "Unit x does not exist.", T(LangEN, "err.unit_not_found", "code", "x"))
	require.Equal(t, "no.such.key", T(LangEN, "no.such.key"))
	// One pass, as strings.Replacer: a value is not substituted again; an
	// unknown or unclosed name stays; a name that prefixes another does not match it.
	require.Equal(t, "a={b} b=2 {c} {a", fillArgs("a={a} b={b} {c} {a", []string{"a", "{b}", "b", "2"}))
	require.Equal(t, "x y", fillArgs("{ab} {a}", []string{"a", "y", "ab", "x"}))
	require.Equal(t, "{}", fillArgs("{}", []string{"a", "1"}))
}
