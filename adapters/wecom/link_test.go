package wecom

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
)

// TestConsoleLinkIsAClickableField: the console link the bot adds last
// becomes a URL row of the template card (type 1), kept even when the
// card has more fields than WeCom shows, and a link in markdown.
func TestConsoleLinkIsAClickableField(t *testing.T) {
	t.Parallel()
	link := bot.Field{Name: "控制台", Value: "https://ops.example.gov.cn/console/incidents/7"}
	m := bot.Message{Ref: "incident:7", Title: "II 级 门户网站无法访问", Text: "已申报"}
	for i := 0; i < 7; i++ {
		m.Fields = append(m.Fields, bot.Field{Name: "字段" + strconv.Itoa(i), Value: "值"})
	}
	m.Fields = append(m.Fields, link)
	c, err := card(m, "task", "已处理")
	require.NoError(t, err)
	require.Len(t, c.HorizontalContentList, maxCardFields)
	last := c.HorizontalContentList[maxCardFields-1]
	require.Equal(t, "控制台", last.KeyName)
	require.Equal(t, 1, last.Type, "a URL row")
	require.Equal(t, link.Value, last.URL, "the whole link, even when the shown value is cut")
	require.Contains(t, c.SubTitleText, "字段5：值", "the fields that do not fit go to the text")
	require.Contains(t, c.SubTitleText, "字段6：值")
	require.Equal(t, 0, c.HorizontalContentList[0].Type, "plain fields stay plain")
	require.Contains(t, markdown(m, ""), "> 控制台：[https://ops.example.gov.cn/console/incidents/7](https://ops.example.gov.cn/console/incidents/7)")
}
