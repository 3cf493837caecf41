package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

func (b *Bot) registerCalendar() {
	for _, c := range []*Command{
		{Path: "calendar show", Usage: "[year]", MaxArgs: 1, Run: b.calendarShow},
		{Path: "calendar set", Usage: "<date> workday|holiday [name]", MinArgs: 2, MaxArgs: 3, Run: b.calendarSet},
	} {
		c.Topic = "general"
		b.router.Handle(c)
	}
}

func (b *Bot) calendarShow(_ context.Context, r *Request) ([]Message, error) {
	year := time.Now().In(b.cfg.Location).Year()
	if len(r.Args) > 0 {
		y, err := strconv.Atoi(r.Args[0])
		if err != nil || y < 2000 || y > 2100 {
			return nil, core.Invalid("year", "value", r.Args[0])
		}
		year = y
	}
	cal := b.calendar.Calendar()
	var lines []string
	for _, d := range cal.Special(year) {
		kind := b.t("calendar.workday")
		if d.Off {
			kind = b.t("calendar.holiday")
		}
		line := "- " + d.Date + " " + kind
		if d.Name != "" {
			line += "（" + d.Name + "）"
		}
		lines = append(lines, line)
	}
	text := strings.Join(lines, "\n")
	if !cal.HasData(year) {
		text = b.t("calendar.no_data", "year", strconv.Itoa(year)) + "\n" + text
	}
	return reply(Message{Title: b.t("calendar.title", "year", strconv.Itoa(year)), Text: strings.TrimSpace(text)})
}

func (b *Bot) calendarSet(ctx context.Context, r *Request) ([]Message, error) {
	kind := map[string]string{"workday": "workday", "holiday": "holiday", "上班": "workday", "工作日": "workday", "放假": "holiday", "节假日": "holiday"}[r.Args[1]]
	if kind == "" {
		kind = r.Args[1]
	}
	name := ""
	if len(r.Args) > 2 {
		name = r.Args[2]
	}
	o, err := b.calendar.Set(ctx, r.Actor, r.Args[0], kind, name)
	if err != nil {
		return nil, err
	}
	k := b.t("calendar.workday")
	if o.Off {
		k = b.t("calendar.holiday")
	}
	return reply(Message{Ref: "calendar:" + o.Date, Text: b.t("calendar.set", "date", o.Date, "kind", k)})
}

// renderCalendar renders calendar notices.
func (b *Bot) renderCalendar(n core.Notice) (Message, bool) {
	if n.Kind != "calendar.missing_year" {
		return Message{}, false
	}
	return Message{Ref: n.Ref, Status: StatusNotice, Title: b.t("calendar.missing.title", "year", n.Data["year"]),
		Text: b.t("calendar.missing", "year", n.Data["year"])}, true
}
