package bot

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestFeedURLsStayPrivate: on WeCom and Slack a feed URL is never made in
// a group or channel, whose members would see the reply.
func TestFeedURLsStayPrivate(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	c := icalBot{Bot: b} // no service: the refusal comes before it is used
	for _, platform := range []string{core.PlatformWeCom, core.PlatformSlack} {
		_, err := c.create(context.Background(), &Request{Event: Event{Platform: platform, Channel: "ops"}})
		var ce *core.Error
		require.True(t, errors.As(err, &ce), "%v", err)
		require.Equal(t, "feed_in_channel", ce.Code)
		require.Contains(t, b.ErrorReply(err, nil).Text, "单聊")
	}
}

// TestFeedCommandsParse: the Chinese words map onto /duty ical, and the
// feed URLs are built on the public address.
func TestFeedCommandsParse(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	for text, want := range map[string]string{"值班 日历订阅": "duty ical", "值班 日历订阅 ops": "duty ical", "值班 日历订阅 停用": "duty ical revoke",
		"duty ical revoke": "duty ical revoke"} {
		tokens, err := tokenize(text)
		require.NoError(t, err)
		cmd, _, _, err := b.router.Match(tokens)
		require.NoError(t, err, text)
		require.Equal(t, want, cmd.Path, text)
	}
	require.Equal(t, "https://ops.example/ical/abc.ics", FeedURL("https://ops.example/", "abc"))
	require.Equal(t, "webcal://ops.example/x/ical/abc.ics", WebcalURL("https://ops.example/x", "abc"))
}
