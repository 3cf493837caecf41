package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

func TestTextStorable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, problem, clean string
	}{
		{name: "plain", in: "磁盘告警 ok", clean: "磁盘告警 ok"},
		{name: "NUL", in: "a\x00b\x00", problem: core.TextNUL, clean: "ab"},
		{name: "invalid UTF-8", in: "a\xffb", problem: core.TextUTF8, clean: "a\uFFFDb"},
		{name: "both", in: "\x00\xfe", problem: core.TextNUL, clean: "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.problem, core.TextProblem(tt.in))
			require.Equal(t, tt.clean, core.CleanText(tt.in))
			require.Empty(t, core.TextProblem(core.CleanText(tt.in)))
			err := core.CheckText("note", tt.in)
			if tt.problem == "" {
				require.NoError(t, err)
				return
			}
			var ce *core.Error
			require.True(t, errors.As(err, &ce))
			require.ErrorIs(t, err, core.ErrInvalid)
			require.Equal(t, "text_unstorable", ce.Code)
			require.Equal(t, map[string]string{"field": "note", "reason": tt.problem}, ce.Args)
		})
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	require.NoError(t, core.CheckName("title", strings.Repeat("字", 200), 200))
	err := core.CheckName("title", strings.Repeat("字", 201), 200)
	var ce *core.Error
	require.True(t, errors.As(err, &ce))
	require.Equal(t, "name", ce.Code)
	require.Equal(t, "200", ce.Args["max"])
	require.Error(t, core.CheckName("title", "  ", 200))
}
