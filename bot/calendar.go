package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
)

// calendarBot is the working calendar's part of the bot.
type calendarBot struct {
	*Bot
	svc *calendar.Service
}

// Calendar plugs the working calendar: /calendar show|set|import and the
// December check for next year's holiday data.
func Calendar(svc *calendar.Service) Plug {
	return func(b *Bot) Module {
		c := calendarBot{Bot: b, svc: svc}
		return Module{
			Name:  "calendar",
			Topic: "general",
			Commands: []*Command{
				{Path: "calendar show", Usage: "[year]", MaxArgs: 1, Run: c.show},
				{Path: "calendar set", Usage: "<date> workday|holiday [name]", MinArgs: 2, MaxArgs: 3, Run: c.set},
				{Path: "calendar import", Usage: "<lines: YYYY-MM-DD holiday|workday [name]>", MinArgs: 1, MaxArgs: -1, Run: c.importSchedule},
			},
			Notices: []NoticeRenderer{Renders(c.renderMissingYear)},
			Jobs: []Job{{Type: "calendar:check", Every: 24 * time.Hour, Run: func(ctx context.Context, _ time.Time) error {
				_, err := svc.CheckNextYear(ctx)
				return err
			}}},
		}
	}
}

func (c calendarBot) show(_ context.Context, r *Request) ([]Message, error) {
	year := c.now().In(c.cfg.Location).Year()
	if len(r.Args) > 0 {
		y, err := strconv.Atoi(r.Args[0])
		if err != nil || y < 2000 || y > 2100 {
			return nil, core.Invalid("year", "value", r.Args[0])
		}
		year = y
	}
	cal := c.svc.Calendar()
	var lines []string
	for _, d := range cal.Special(year) {
		kind := c.t("calendar.workday")
		if d.Off {
			kind = c.t("calendar.holiday")
		}
		line := "- " + d.Date + " " + kind
		if d.Name != "" {
			line += "（" + d.Name + "）"
		}
		lines = append(lines, line)
	}
	if !cal.HasData(year) {
		// The days off computed from the national rules, as the calendar counts them.
		for _, d := range calendar.Statutory(year) {
			if t, err := time.ParseInLocation("2006-01-02", d.Date, c.cfg.Location); err == nil && !cal.IsWorkday(t) &&
				t.Weekday() != time.Saturday && t.Weekday() != time.Sunday {
				lines = append(lines, "- "+d.Date+" "+c.t("calendar.computed")+"（"+d.Name+"）")
			}
		}
	}
	text := strings.Join(lines, "\n")
	if !cal.HasData(year) {
		text = c.t("calendar.no_data", "year", strconv.Itoa(year)) + "\n" + text
	}
	return reply(Message{Title: c.t("calendar.title", "year", strconv.Itoa(year)), Text: strings.TrimSpace(text)})
}

func (c calendarBot) set(ctx context.Context, r *Request) ([]Message, error) {
	kind := map[string]string{"workday": "workday", "holiday": "holiday", "上班": "workday", "工作日": "workday", "放假": "holiday", "节假日": "holiday"}[r.Args[1]]
	if kind == "" {
		kind = r.Args[1]
	}
	name := ""
	if len(r.Args) > 2 {
		name = r.Args[2]
	}
	ch, err := c.svc.Set(ctx, r.Actor, r.Args[0], kind, name)
	if err != nil {
		return nil, err
	}
	o := ch.Days[0]
	k := c.t("calendar.workday")
	if o.Off {
		k = c.t("calendar.holiday")
	}
	return reply(Message{Ref: "calendar:" + o.Date, Text: c.t("calendar.set", "date", o.Date, "kind", k) + c.recomputed(ch)})
}

// importSchedule loads the official schedule pasted after the command:
// the message's own lines when the platform keeps them.
func (c calendarBot) importSchedule(ctx context.Context, r *Request) ([]Message, error) {
	text := strings.Join(r.Args, " ")
	if _, rest, ok := strings.Cut(r.Event.Text, "import"); ok {
		text = rest
	}
	ch, err := c.svc.Import(ctx, r.Actor, text)
	if err != nil {
		return nil, err
	}
	years := make([]string, len(ch.Years))
	for i, y := range ch.Years {
		years[i] = strconv.Itoa(y)
	}
	return reply(Message{Ref: "calendar:" + years[0], Text: c.t("calendar.imported", "days", strconv.Itoa(len(ch.Days)),
		"years", strings.Join(years, "、")) + c.recomputed(ch)})
}

// recomputed says how many open deadlines a change moved.
func (c calendarBot) recomputed(ch calendar.Change) string {
	if ch.Recomputed == 0 {
		return ""
	}
	return c.t("calendar.recomputed", "count", strconv.Itoa(ch.Recomputed))
}

func (c calendarBot) renderMissingYear(ref string, n calendar.MissingYear) (Message, error) {
	year := strconv.Itoa(n.Year)
	return Message{Ref: ref, Status: StatusNotice, Title: c.t("calendar.missing.title", "year", year),
		Text: c.t("calendar.missing", "year", year)}, nil
}
