package bot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
)

func testDirectory() []org.Profile {
	p := func(id, name, unit string) org.Profile {
		return org.Profile{User: org.User{ID: id, Name: name, Unit: unit}, Unit: org.Unit{Code: unit, Name: unit + "名"}}
	}
	return []org.Profile{p("sunli", "孙丽", "ops"), p("zhangwei", "张伟", "dc-edu"), p("zhangwei2", "张伟", "xc-edu"), p("zhoujie", "周杰", "ops")}
}

func TestResolveName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, err string
	}{
		{name: "id stays", in: "sunli", want: "sunli"},
		{name: "unique name", in: "孙丽", want: "sunli"},
		{name: "unknown stays for the core to refuse", in: "孙莉", want: "孙莉"},
		{name: "ambiguous lists the choices", in: "张伟", err: "张伟（zhangwei，dc-edu名）、张伟（zhangwei2，xc-edu名）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveName(testDirectory(), tt.in, LangZH)
			if tt.err != "" {
				var ce *core.Error
				require.ErrorAs(t, err, &ce)
				require.Equal(t, "user_ambiguous", ce.Code)
				require.Equal(t, tt.err, ce.Args["choices"])
				require.Contains(t, testBot(LangZH).ErrorReply(err, nil).Text, "有多位用户名为“张伟”")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestApplyNames(t *testing.T) {
	t.Parallel()
	resolve := func(v string) (string, error) { return resolveName(testDirectory(), v, LangZH) }
	tests := []struct {
		name      string
		cmd       *Command
		args      []string
		flags     map[string]string
		wantArgs  []string
		wantFlags map[string]string
		err       string
	}{
		{name: "argument", cmd: &Command{Users: []int{1}}, args: []string{"3", "孙丽"}, flags: map[string]string{},
			wantArgs: []string{"3", "sunli"}, wantFlags: map[string]string{}},
		{name: "other arguments untouched", cmd: &Command{Users: []int{2}}, args: []string{"孙丽", "2026-12-01", "周杰"}, flags: map[string]string{},
			wantArgs: []string{"孙丽", "2026-12-01", "zhoujie"}, wantFlags: map[string]string{}},
		{name: "missing optional argument", cmd: &Command{Users: []int{0}}, flags: map[string]string{}, wantFlags: map[string]string{}},
		{name: "flag", cmd: &Command{UserFlags: []string{"owner"}}, flags: map[string]string{"owner": "孙丽", "location": "孙丽"},
			wantFlags: map[string]string{"owner": "sunli", "location": "孙丽"}},
		{name: "list flag", cmd: &Command{UserFlags: []string{"staff"}}, flags: map[string]string{"staff": "孙丽，zhoujie、周杰"},
			wantFlags: map[string]string{"staff": "sunli,zhoujie,zhoujie"}},
		{name: "list flag of ids kept as typed", cmd: &Command{UserFlags: []string{"staff"}}, flags: map[string]string{"staff": "sunli，zhoujie"},
			wantFlags: map[string]string{"staff": "sunli，zhoujie"}},
		{name: "role stays", cmd: &Command{UserFlags: []string{"assignee"}}, flags: map[string]string{"assignee": "operator"},
			wantFlags: map[string]string{"assignee": "operator"}},
		{name: "ambiguous in a list", cmd: &Command{UserFlags: []string{"members"}}, flags: map[string]string{"members": "孙丽,张伟"}, err: "user_ambiguous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := applyNames(tt.cmd, tt.args, tt.flags, resolve)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantArgs, tt.args)
			require.Equal(t, tt.wantFlags, tt.flags)
		})
	}
}

func TestSuggestUsers(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"孙丽（sunli）"}, suggestUsers(testDirectory(), "孙莉", LangZH))
	require.Equal(t, []string{"孙丽 (sunli)"}, suggestUsers(testDirectory(), "孙莉", LangEN))
	require.Equal(t, []string{"孙丽（sunli）"}, suggestUsers(testDirectory(), "sunly", LangZH))
	require.Equal(t, []string{"周杰（zhoujie）"}, suggestUsers(testDirectory(), "zhoujei", LangZH))
	require.Empty(t, suggestUsers(testDirectory(), "wangfang", LangZH))
}

func TestSuggestCommands(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	tests := []struct {
		name, line, want string
	}{
		{name: "typo in the word", line: "incdent assign 3 sunli", want: "/incident assign"},
		{name: "typo in the subcommand", line: "incident asign 3 sunli", want: "/incident assign"},
		{name: "chinese alias typo", line: "事件 指牌 3 孙丽", want: "/incident assign"},
		{name: "single word", line: "whomai", want: "/whoami"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := tokenize(tt.line)
			require.NoError(t, err)
			_, _, _, err = b.router.Match(toks)
			require.Error(t, err)
			text := b.ErrorReply(err, nil).Text
			require.Contains(t, text, "您是不是要输入："+tt.want, text)
		})
	}
	_, _, _, err := b.router.Match([]string{"xyzzy"})
	require.NotContains(t, b.ErrorReply(err, nil).Text, "您是不是要输入")
}

func TestErrorReplySuggestsUnitsAndUsers(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	err := &suggestError{err: core.NotFound("user_not_found", "id", "孙莉"), choices: []string{"孙丽（sunli）"}}
	require.Equal(t, "用户 孙莉 不存在。\n您是不是要输入：孙丽（sunli）？", b.ErrorReply(err, nil).Text)
	require.Equal(t, "refused", outcome(err))
}

func TestFullWidthSlashIsACommand(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	for _, line := range []string{"／帮助", "\u3000／help", "/帮助"} {
		cmd, msgs, err := b.command(context.Background(), core.Actor{UserID: "sunli"}, Event{Text: line})
		require.NoError(t, err, line)
		require.Equal(t, "help", cmd.Path, line)
		require.NotEmpty(t, msgs, line)
	}
}
