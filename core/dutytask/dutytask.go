// Package dutytask keeps recurring duties: work due once a month, a
// quarter or a year (the annual disclosure report, staff training, the
// operations manual's revision, the emergency plans' review), each owned
// by a role or a user.
//
//	due → (reminded Lead before) → done, next period due
//	                             ↘ missed: escalated the day after, until done
//
// Each duty keeps one pending "duty-task:due" timer for its next due
// date: the reminder to its owners (a role's holders) Lead before, which
// schedules the escalation to the owners' admins and the sys admins the
// morning after the due date. Marking it done moves it to the next period
// and replaces the timers.
package dutytask

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine"
)

// TimerDue is the kind of a duty's timer: ref duty-task; data due, stage.
const TimerDue = "duty-task:due"

// Periods.
const (
	Month   = "month"
	Quarter = "quarter"
	Year    = "year"
)

// Lead is how long before its due date a duty is reminded.
const Lead = 3 * 24 * time.Hour

// RemindAt is the time of day of reminders and escalations.
const RemindAt = "09:00"

// Task is a recurring duty.
type Task struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Every     string     `json:"every"`    // month | quarter | year
	Owner     string     `json:"owner"`    // a role or a user id
	DueRule   string     `json:"due_rule"` // "day N", "first-working-day", "MM-DD" (year)
	NextDue   time.Time  `json:"next_due"` // the start of the due day
	SeedKey   string     `json:"seed_key,omitempty"`
	LastDone  *time.Time `json:"last_done,omitempty"`
	LastBy    string     `json:"last_by,omitempty"`
	LastNote  string     `json:"last_note,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// Ref is the duty's entity reference.
func (t Task) Ref() string { return "duty-task:" + strconv.FormatInt(t.ID, 10) }

// Due reminds a duty's owners that it is due.
type Due struct {
	Task  int64  `json:"task"`
	Name  string `json:"name"`
	Due   string `json:"due"` // YYYY-MM-DD
	Owner string `json:"owner"`
}

// NoticeType is "duty_task.due".
func (Due) NoticeType() string { return "duty_task.due" }

// Overdue tells the owners' admins and the sys admins a duty was missed.
type Overdue struct {
	Task   int64    `json:"task"`
	Name   string   `json:"name"`
	Due    string   `json:"due"`
	Owner  string   `json:"owner"`
	Owners []string `json:"owners,omitempty"`
}

// NoticeType is "duty_task.overdue".
func (Overdue) NoticeType() string { return "duty_task.overdue" }

// Tx is what recurring duties need in one transaction.
type Tx interface {
	core.Tx
	InsertDutyTask(ctx context.Context, t *Task) error
	DutyTask(ctx context.Context, id int64, lock bool) (Task, error)
	DutyTasks(ctx context.Context) ([]Task, error)
	UpdateDutyTask(ctx context.Context, t Task) error
	// DutyTaskSeeded reports whether a duty with seed key exists.
	DutyTaskSeeded(ctx context.Context, key string) (bool, error)
	HoldersOf(ctx context.Context, role org.Role) ([]string, error)
	AdminsOf(ctx context.Context, userID string) ([]string, error)
	User(ctx context.Context, id string) (org.User, error)
}

// Store runs duty work in transactions; Exclusive runs seeding under the
// org's seed lock.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// Rule is a parsed due rule.
type Rule struct {
	Day       int  // day of the (first) month of the period
	FirstWork bool // the first working day of the period
	Month     int  // a yearly duty's month (MM-DD) …
	MonthDay  int  // … and day
}

// ParseRule reads a due rule for a period: "day N" (1–28), "first-working-day",
// or "MM-DD" (yearly duties only).
func ParseRule(every, rule string) (Rule, error) {
	r := strings.ToLower(strings.Join(strings.Fields(rule), " "))
	switch {
	case r == "first-working-day" || r == "首个工作日":
		return Rule{FirstWork: true}, nil
	case strings.HasPrefix(r, "day "):
		n, err := strconv.Atoi(strings.TrimPrefix(r, "day "))
		if err != nil || n < 1 || n > 28 {
			return Rule{}, core.Invalid("duty_task_rule", "value", rule)
		}
		return Rule{Day: n}, nil
	}
	if d, err := time.Parse("01-02", r); err == nil && every == Year {
		return Rule{Month: int(d.Month()), MonthDay: d.Day()}, nil
	}
	return Rule{}, core.Invalid("duty_task_rule", "value", rule)
}

// firstMonths returns the months a period starts in.
func firstMonths(every string) []time.Month {
	switch every {
	case Month:
		return []time.Month{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	case Quarter:
		return []time.Month{1, 4, 7, 10}
	}
	return []time.Month{1}
}

// dueIn is the due day of the period starting in year y, month m.
func (r Rule) dueIn(y int, m time.Month, cal routine.WorkingDays) time.Time {
	loc := cal.Location()
	switch {
	case r.Month != 0:
		return time.Date(y, time.Month(r.Month), r.MonthDay, 0, 0, 0, 0, loc)
	case r.FirstWork:
		d := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		for i := 0; i < 31 && !cal.IsWorkday(d.Add(12*time.Hour)); i++ {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	return time.Date(y, m, r.Day, 0, 0, 0, 0, loc)
}

// NextDue is the first due day of the duty on or after day's date.
func NextDue(every string, r Rule, cal routine.WorkingDays, day time.Time) time.Time {
	day = day.In(cal.Location())
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cal.Location())
	for y := day.Year() - 1; y <= day.Year()+1; y++ {
		for _, m := range firstMonths(every) {
			if d := r.dueIn(y, m, cal); !d.Before(start) {
				return d
			}
		}
	}
	return time.Time{}
}
