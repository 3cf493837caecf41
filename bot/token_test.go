package bot

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestTokenSecretsStayPrivate: on WeCom and Slack a token is never made
// in a group or channel, whose members would see the reply; the web chat
// answers only the person who asked.
func TestTokenSecretsStayPrivate(t *testing.T) {
	t.Parallel()
	b := testBot(LangEN)
	k := tokenBot{Bot: b} // no service: a refusal must come before it is used
	for _, platform := range []string{core.PlatformWeCom, core.PlatformSlack} {
		for _, run := range []func(context.Context, *Request) ([]Message, error){k.create, k.createService} {
			_, err := run(context.Background(), &Request{Event: Event{Platform: platform, Channel: "ops"}, Args: []string{"svc", "ci"}})
			var ce *core.Error
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, "token_in_channel", ce.Code)
			require.Contains(t, b.ErrorReply(err, nil).Text, "direct chat")
		}
	}
	require.NoError(t, private(&Request{Event: Event{Platform: core.PlatformWeCom}}))
	require.NoError(t, private(&Request{Event: Event{Platform: core.PlatformWebchat, Channel: "ops"}}))
}

// TestTokenCommandsParse: Chinese words and flags map onto /token create.
func TestTokenCommandsParse(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	tokens, err := tokenize("令牌 创建 ci --有效期 30d --范围 只读")
	require.NoError(t, err)
	cmd, args, flags, err := b.router.Match(tokens)
	require.NoError(t, err)
	require.Equal(t, "token create", cmd.Path)
	require.Equal(t, []string{"ci"}, args)
	require.Equal(t, map[string]string{"expires": "30d", "scope": "read"}, flags)
}
