package bot

import (
	"context"
	"strconv"
	"strings"
)

// webchatLinkModule is the built-in "webchat-link" module: personal
// sign-in links to the web chat and ending its sessions.
func (b *Bot) webchatLinkModule() Module {
	return Module{Name: "webchat-link", Topic: "general", Commands: []*Command{
		{Path: "webchat link", Users: []int{0}, Usage: "[userid]", MaxArgs: 1, Run: b.webchatLink},
		{Path: "webchat logout", Users: []int{0}, Usage: "[userid]", MaxArgs: 1, Run: b.webchatLogout},
	}}
}

// webchatLink issues a personal sign-in link to the web chat: for oneself,
// or (an admin covering them) for someone without WeCom or Slack.
func (b *Bot) webchatLink(ctx context.Context, r *Request) ([]Message, error) {
	user := r.Actor.UserID
	if len(r.Args) > 0 {
		user = r.Args[0]
	}
	token, wt, err := b.org.IssueWebToken(ctx, r.Actor, user, b.cfg.SessionTTL)
	if err != nil {
		return nil, err
	}
	link := strings.TrimRight(b.cfg.WebchatURL, "/") + "/webchat/#token=" + token
	key := "webchat.link.self"
	if user != r.Actor.UserID {
		key = "webchat.link.other"
	}
	return reply(Message{Ref: "user:" + user, Title: b.t("webchat.link.title"), Secret: token,
		Text: b.t(key, "user", user, "link", link, "until", b.fmtTime(wt.ExpiresAt))})
}

func (b *Bot) webchatLogout(ctx context.Context, r *Request) ([]Message, error) {
	user := r.Actor.UserID
	if len(r.Args) > 0 {
		user = r.Args[0]
	}
	n, err := b.org.RevokeWebTokens(ctx, r.Actor, user)
	if err != nil {
		return nil, err
	}
	sessions := 0
	if b.cfg.Sessions != nil {
		if sessions, err = b.cfg.Sessions.EndAll(ctx, r.Actor, user); err != nil {
			return nil, err
		}
	}
	return reply(Message{Ref: "user:" + user, Text: b.t("webchat.logout", "user", user, "n", strconv.Itoa(n), "sessions", strconv.Itoa(sessions))})
}
