package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/duty"
)

// icalBot is the duty calendar subscriptions' part of the bot.
type icalBot struct {
	*Bot
	feeds *duty.Feeds
	base  string
}

// DutyFeeds plugs /duty ical: iCal subscription feeds of duty shifts, at
// base + /ical/{secret}.ics (base is console.public_url or
// webchat.public_url).
func DutyFeeds(feeds *duty.Feeds, base string) Plug {
	return func(b *Bot) Module {
		c := icalBot{Bot: b, feeds: feeds, base: strings.TrimRight(base, "/")}
		return Module{
			Name:  "duty-ical",
			Topic: "incident",
			Commands: []*Command{
				{Path: "duty ical", Usage: "[rotation]", MaxArgs: 1, Run: c.create},
				{Path: "duty ical revoke", Run: c.revoke},
			},
		}
	}
}

// FeedURL is a feed's address: base + /ical/{secret}.ics.
func FeedURL(base, secret string) string {
	return strings.TrimRight(base, "/") + "/ical/" + secret + ".ics"
}

// WebcalURL is a feed's address with the webcal scheme, which opens the
// subscription dialog of Apple Calendar and Outlook.
func WebcalURL(base, secret string) string {
	u := FeedURL(base, secret)
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	return "webcal://" + u
}

// create makes a feed (the user's own shifts, or a rotation's) and shows
// its URL this once, privately.
func (c icalBot) create(ctx context.Context, r *Request) ([]Message, error) {
	if r.Event.Channel != "" && r.Event.Platform != core.PlatformWebchat {
		return nil, core.Forbidden("feed_in_channel")
	}
	rotation := ""
	if len(r.Args) > 0 {
		rotation = r.Args[0]
	}
	secret, f, err := c.feeds.Create(ctx, r.Actor, rotation)
	if err != nil {
		return nil, err
	}
	title, what := c.t("ical.created.mine.title"), c.t("ical.what.mine")
	if !f.Mine() {
		title, what = c.t("ical.created.rotation.title", "rotation", rotation), c.t("ical.what.rotation", "rotation", rotation)
	}
	return reply(Message{Ref: f.Ref(), Title: title, Secret: secret,
		Text: c.t("ical.created", "what", what, "url", FeedURL(c.base, secret), "webcal", WebcalURL(c.base, secret))})
}

// revoke ends every feed of the user at once.
func (c icalBot) revoke(ctx context.Context, r *Request) ([]Message, error) {
	gone, err := c.feeds.Revoke(ctx, r.Actor, 0)
	if err != nil {
		return nil, err
	}
	if len(gone) == 0 {
		return reply(Message{Text: c.t("ical.none")})
	}
	return reply(Message{Text: c.t("ical.revoked", "n", strconv.Itoa(len(gone)))})
}
