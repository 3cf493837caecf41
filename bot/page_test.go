package bot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestPaged: a long list shows PageSize lines a page, names the command
// for the next page, marks the last one, and refuses a page past the end.
func TestPaged(t *testing.T) {
	b := testBot("zh-CN")
	lines := make([]string, 45)
	for i := range lines {
		lines[i] = fmt.Sprintf("- 第%d行", i+1)
	}
	one, err := b.paged(lines, 1, false, "/org tree dongcheng")
	require.NoError(t, err)
	require.Equal(t, PageSize+1, strings.Count(one, "\n")+1)
	require.Contains(t, one, "- 第20行")
	require.NotContains(t, one, "- 第21行")
	require.Contains(t, one, "（第 1 页；下一页：/org tree dongcheng --page 2）")

	three, err := b.paged(lines, 3, false, "/org tree")
	require.NoError(t, err)
	require.Equal(t, "- 第41行\n- 第42行\n- 第43行\n- 第44行\n- 第45行\n（第 3 页，最后一页）", three)

	_, err = b.paged(lines, 4, false, "/org tree")
	require.ErrorIs(t, err, core.ErrInvalid)
	require.Contains(t, b.ErrorReply(err, nil).Text, "没有第 4 页：一共 3 页")

	// A list read only up to this page says more follow.
	more, err := b.paged(lines[:20], 1, true, "/incident list --open")
	require.NoError(t, err)
	require.Contains(t, more, "下一页：/incident list --open --page 2")

	// A short list is shown as it is.
	short, err := b.paged(lines[:3], 1, false, "/org tree")
	require.NoError(t, err)
	require.Equal(t, "- 第1行\n- 第2行\n- 第3行", short)

	for _, v := range []string{"0", "-1", "二", "abc"} {
		_, err := pageOf(&Request{Flags: map[string]string{"page": v}})
		require.ErrorIs(t, err, core.ErrInvalid, v)
		require.Contains(t, b.ErrorReply(err, nil).Text, "请写从 1 开始的整数")
	}
}
