package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/org"
)

// DutyCalendar is the duty calendar (duty.Schedule): rotations and
// months inside a view, and one's own shifts.
type DutyCalendar interface {
	Rotations(ctx context.Context, actor core.Actor, v org.View) ([]duty.Rotation, error)
	Month(ctx context.Context, actor core.Actor, v org.View, name, month string) (duty.Month, error)
	Mine(ctx context.Context, actor core.Actor, month string) ([]duty.FeedShift, error)
	ParseMonth(month string) (time.Time, error)
}

// DutyFeeds issues and revokes iCal feeds (duty.Feeds), as /duty ical
// does in chat.
type DutyFeeds interface {
	Create(ctx context.Context, actor core.Actor, rotation string) (string, duty.Feed, error)
	List(ctx context.Context, actor core.Actor) ([]duty.Feed, error)
	Revoke(ctx context.Context, actor core.Actor, id int64) ([]duty.Feed, error)
}

// dutyPages are the duty calendar, my shifts, and the feed form's post.
func (c *Console) dutyPages() []Page {
	if c.svc.Duty == nil || c.svc.Feeds == nil {
		return nil
	}
	return []Page{
		{Path: "/console/duty", Nav: NavDuty, Title: "console.duty.title", Template: "duty.html", Handle: c.dutyMonth},
		{Path: "/console/duty/mine", Nav: NavDuty, Title: "console.duty.mine.title", Template: "duty.html", Handle: c.dutyMine},
		{Path: "/console/duty/feeds", Method: http.MethodPost, Nav: NavDuty, Title: "console.duty.feeds.title", Template: "duty.html",
			Handle: c.dutyFeedPost},
	}
}

// dutyCell is one square of the month grid: a day, or a blank before
// the 1st or after the last.
type dutyCell struct {
	Day       *duty.MonthDay
	Date      string // "2006-01-02"
	N         int    // day of the month
	Primary   string // name on duty
	Secondary string
	Handover  string // "accepted", "pending", "none" (a past handover day with no record), or ""
}

// dutyCreated is a feed just made: its URL, shown this once.
type dutyCreated struct {
	Feed        duty.Feed
	URL, Webcal string
}

// dutyPage is the data of the duty pages (one template, duty.html): the
// month (Kind "month"), my shifts ("mine") or a feed form's result
// ("feed"), each with the feeds box.
type dutyPage struct {
	Kind       string
	Label      string // the month, "2026年10月"
	Prev, Next string // month links
	Rotations  []duty.Rotation
	Rotation   string // the rotation shown ("" on my shifts)
	Month      duty.Month
	Weekdays   []string
	Weeks      [][]dutyCell
	Shifts     []duty.FeedShift
	Feeds      []duty.Feed
	Created    *dutyCreated
	Revoked    int
	Back       string
}

// monthLabel names a month in the request's language.
func monthLabel(r *Request, first time.Time) string {
	if r.Lang == bot.LangEN {
		return first.Format("January 2006")
	}
	return first.Format("2006年1月")
}

// weekdays are the grid's column heads, Monday first.
func weekdays(r *Request) []string {
	if r.Lang == bot.LangEN {
		return []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	}
	return []string{"一", "二", "三", "四", "五", "六", "日"}
}

// grid lays a month's days out in weeks, Monday first.
func grid(m duty.Month, now time.Time) [][]dutyCell {
	var weeks [][]dutyCell
	week := make([]dutyCell, (int(m.First.Weekday())+6)%7)
	for i := range m.Days {
		day := &m.Days[i]
		cell := dutyCell{Day: day, Date: day.Date.Format("2006-01-02"), N: day.Date.Day(),
			Primary: m.Names[day.Duty.Primary], Secondary: m.Names[day.Duty.Secondary]}
		switch {
		case day.Handover != nil:
			cell.Handover = day.Handover.State
		case day.Starts && day.Duty.Start.Before(now):
			cell.Handover = "none"
		}
		if week = append(week, cell); len(week) == 7 {
			weeks, week = append(weeks, week), nil
		}
	}
	if len(week) > 0 {
		weeks = append(weeks, append(week, make([]dutyCell, 7-len(week))...))
	}
	return weeks
}

// dutyMonth is /console/duty: a rotation's month (?rotation=, the first
// in view by default; ?month=YYYY-MM, the current by default).
func (c *Console) dutyMonth(r *Request) (any, error) {
	q := r.URL.Query()
	first, err := c.svc.Duty.ParseMonth(q.Get("month"))
	if err != nil {
		return nil, err
	}
	d := dutyPage{Kind: "month", Label: monthLabel(r, first), Weekdays: weekdays(r)}
	if d.Rotations, err = c.svc.Duty.Rotations(r.Context(), r.Actor, r.View); err != nil {
		return nil, err
	}
	if d.Feeds, err = c.svc.Feeds.List(r.Context(), r.Actor); err != nil {
		return nil, err
	}
	d.Rotation = q.Get("rotation")
	if d.Rotation == "" {
		if len(d.Rotations) == 0 {
			return d, nil
		}
		d.Rotation = d.Rotations[0].Name
	}
	if d.Month, err = c.svc.Duty.Month(r.Context(), r.Actor, r.View, d.Rotation, first.Format("2006-01")); err != nil {
		return nil, err
	}
	d.Prev = r.Link("/console/duty", "rotation", d.Rotation, "month", first.AddDate(0, -1, 0).Format("2006-01"))
	d.Next = r.Link("/console/duty", "rotation", d.Rotation, "month", first.AddDate(0, 1, 0).Format("2006-01"))
	d.Weeks = grid(d.Month, r.Now())
	return d, nil
}

// dutyMine is /console/duty/mine: the user's shifts in a month on every
// rotation (?month=YYYY-MM).
func (c *Console) dutyMine(r *Request) (any, error) {
	first, err := c.svc.Duty.ParseMonth(r.URL.Query().Get("month"))
	if err != nil {
		return nil, err
	}
	d := dutyPage{Kind: "mine", Label: monthLabel(r, first),
		Prev: r.Link("/console/duty/mine", "month", first.AddDate(0, -1, 0).Format("2006-01")),
		Next: r.Link("/console/duty/mine", "month", first.AddDate(0, 1, 0).Format("2006-01"))}
	if d.Shifts, err = c.svc.Duty.Mine(r.Context(), r.Actor, first.Format("2006-01")); err != nil {
		return nil, err
	}
	d.Feeds, err = c.svc.Feeds.List(r.Context(), r.Actor)
	return d, err
}

// FeedWhat names a feed's kind: my shifts ("") or a rotation's.
func (r *Request) FeedWhat(rotation string) string {
	if rotation == "" {
		return r.T("console.duty.feeds.mine")
	}
	return r.T("console.duty.feeds.rotation", "rotation", rotation)
}

// MonthOf is t's month, "2006-01", in the console's time zone.
func (r *Request) MonthOf(t time.Time) string { return t.In(r.Location()).Format("2006-01") }

// feedBase is the address feed URLs start with: console.public_url, else
// the address the browser used.
func (c *Console) feedBase(r *Request) string {
	if c.cfg.PublicURL != "" {
		return c.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// dutyFeedPost makes a feed (action=create, rotation "" for my shifts)
// or ends one or all (action=revoke, id or "all"), then shows the result:
// a new feed's URL this once.
func (c *Console) dutyFeedPost(r *Request) (any, error) {
	if !r.Principal.CanWrite() {
		return nil, core.Forbidden("read_only_token")
	}
	rotation := r.PostFormValue("rotation")
	d := dutyPage{Kind: "feed", Rotation: rotation, Back: r.Link("/console/duty/mine")}
	if rotation != "" {
		d.Back = r.Link("/console/duty", "rotation", rotation)
	}
	switch v := r.PostFormValue("action"); v {
	case "create":
		secret, f, err := c.svc.Feeds.Create(r.Context(), r.Actor, rotation)
		if err != nil {
			return nil, err
		}
		base := c.feedBase(r)
		d.Created = &dutyCreated{Feed: f, URL: bot.FeedURL(base, secret), Webcal: bot.WebcalURL(base, secret)}
	case "revoke":
		var id int64
		if v := r.PostFormValue("id"); v != "all" {
			var err error
			if id, err = strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
				return nil, core.Invalid("feed_id", "value", v)
			}
		}
		gone, err := c.svc.Feeds.Revoke(r.Context(), r.Actor, id)
		if err != nil {
			return nil, err
		}
		d.Revoked = len(gone)
	default:
		return nil, core.Invalid("feed_action", "value", v)
	}
	var err error
	d.Feeds, err = c.svc.Feeds.List(r.Context(), r.Actor)
	return d, err
}
