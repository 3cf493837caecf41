package calendar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Override is an admin's correction of one day.
type Override struct {
	Date  string    `json:"date"`
	Off   bool      `json:"off"`
	Name  string    `json:"name,omitempty"`
	SetBy string    `json:"set_by"`
	SetAt time.Time `json:"set_at"`
}

// Tx is what overrides need from a store.
type Tx interface {
	core.Recorder
	User(ctx context.Context, id string) (org.User, error)
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
	UpsertDayOverride(ctx context.Context, o Override) error
	DayOverrides(ctx context.Context) ([]Override, error)
	// MarkYearLoaded records that an admin loaded a year's official schedule.
	MarkYearLoaded(ctx context.Context, year int, by string, at time.Time) error
	// LoadedYears lists the years whose official schedule an admin loaded.
	LoadedYears(ctx context.Context) ([]int, error)
}

// Listener hears, once a calendar change is committed and applied, that
// deadlines counted in working days may have moved; it returns how many
// it recomputed (the tickets' Recompute).
type Listener func(ctx context.Context, actor core.Actor) (int, error)

// Change is what a /calendar set or import did.
type Change struct {
	Days       []Override // the days set
	Years      []int      // the years now loaded (import)
	Recomputed int        // open deadlines recomputed
}

// Store runs calendar work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Service keeps the calendar's admin overrides.
type Service struct {
	store     Store
	cal       *Calendar
	clock     core.Clock
	listeners []Listener
}

// OnChange adds a listener to calendar changes.
func (s *Service) OnChange(l Listener) { s.listeners = append(s.listeners, l) }

// NewService returns the calendar service over cal.
func NewService(store Store, cal *Calendar, clock core.Clock) *Service {
	return &Service{store: store, cal: cal, clock: clock}
}

// Calendar returns the calendar the service keeps.
func (s *Service) Calendar() *Calendar { return s.cal }

// LoadOverrides applies every stored override and loaded year to the calendar.
func (s *Service) LoadOverrides(ctx context.Context) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		os, err := tx.DayOverrides(ctx)
		for _, o := range os {
			s.cal.Set(o.Date, o.Off, o.Name)
		}
		if err != nil {
			return err
		}
		years, err := tx.LoadedYears(ctx)
		for _, y := range years {
			s.cal.MarkYear(y)
		}
		return err
	})
}

// Set marks a date a working day or a holiday; sys admins only. Open
// deadlines are recomputed.
func (s *Service) Set(ctx context.Context, actor core.Actor, date, kind, name string) (Change, error) {
	d, err := time.ParseInLocation("2006-01-02", date, s.cal.Location())
	if err != nil {
		return Change{}, core.Invalid("date", "value", date)
	}
	if kind != "workday" && kind != "holiday" {
		return Change{}, core.Invalid("day_kind", "value", kind)
	}
	o := Override{Date: d.Format("2006-01-02"), Off: kind == "holiday", Name: strings.TrimSpace(name), SetBy: actor.UserID, SetAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := needSysAdmin(ctx, tx, actor, "calendar.set"); err != nil {
			return err
		}
		if err := tx.UpsertDayOverride(ctx, o); err != nil {
			return err
		}
		b, _ := json.Marshal(o)
		return tx.Audit(ctx, core.AuditEntry{At: o.SetAt, Actor: actor.UserID, Platform: actor.Platform, Action: "calendar.set",
			Entity: "calendar:" + o.Date, After: string(b)})
	})
	if err != nil {
		return Change{}, err
	}
	// Applied once committed; other replicas apply it at their next reload.
	s.cal.Set(o.Date, o.Off, o.Name)
	return s.changed(ctx, actor, Change{Days: []Override{o}})
}

// needSysAdmin refuses anyone but a registered sys admin.
func needSysAdmin(ctx context.Context, tx Tx, actor core.Actor, action string) error {
	if u, err := tx.User(ctx, actor.UserID); err != nil || u.Removed {
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		return core.Forbidden("not_registered", "id", actor.UserID)
	}
	grants, err := tx.GrantsOf(ctx, actor.UserID)
	if err != nil {
		return err
	}
	if !org.HasRole(grants, org.RoleSysAdmin) {
		return core.Forbidden("need_sys_admin", "action", action)
	}
	return nil
}

// changed tells the listeners of a committed change.
func (s *Service) changed(ctx context.Context, actor core.Actor, c Change) (Change, error) {
	for _, l := range s.listeners {
		n, err := l(ctx, actor)
		c.Recomputed += n
		if err != nil {
			return c, fmt.Errorf("calendar: saved, but recomputing deadlines failed: %w", err)
		}
	}
	return c, nil
}

// isDate reports whether s looks like YYYY-MM-DD.
func isDate(s string) bool { return len(s) == 10 && s[4] == '-' && s[7] == '-' }

// ParseSchedule reads a year's official schedule (the State Council's
// notice) in the import format: one day a line,
//
//	2027-01-01 holiday 元旦
//	2027-02-07 workday 春节调休
//
// a date, holiday|workday (or 放假 / 上班), an optional name; blank lines
// and lines starting with # are skipped. Entries run together on one line
// (as some chat clients send them) are split at each date. Every error
// names its line.
func ParseSchedule(text string, loc *time.Location) ([]Override, error) {
	var out []Override
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		for j := 0; j < len(fields); {
			n := strconv.Itoa(i + 1)
			date := fields[j]
			d, err := time.ParseInLocation("2006-01-02", date, loc)
			if !isDate(date) || err != nil {
				return nil, core.Invalid("schedule_line", "line", n, "value", date)
			}
			if j+1 >= len(fields) {
				return nil, core.Invalid("schedule_kind", "line", n, "value", "")
			}
			kind := map[string]string{"holiday": "holiday", "workday": "workday", "放假": "holiday", "休": "holiday", "上班": "workday", "班": "workday"}[fields[j+1]]
			if kind == "" {
				return nil, core.Invalid("schedule_kind", "line", n, "value", fields[j+1])
			}
			k := j + 2
			for k < len(fields) && !isDate(fields[k]) {
				k++
			}
			date = d.Format("2006-01-02")
			if seen[date] {
				return nil, core.Invalid("schedule_twice", "line", n, "value", date)
			}
			seen[date] = true
			out = append(out, Override{Date: date, Off: kind == "holiday", Name: strings.Join(fields[j+2:k], " ")})
			j = k
		}
	}
	if len(out) == 0 {
		return nil, core.Invalid("schedule_empty")
	}
	return out, nil
}

// Import loads the official schedule of one or more years (ParseSchedule's
// format); sys admins only. Every listed day is set, each year it covers is
// recorded as loaded (its computed holidays and the provisional mark of
// deadlines through it go), all in one transaction, audited; then open
// deadlines are recomputed.
func (s *Service) Import(ctx context.Context, actor core.Actor, text string) (Change, error) {
	days, err := ParseSchedule(text, s.cal.Location())
	if err != nil {
		return Change{}, err
	}
	now := s.clock.Now()
	var years []int
	for i := range days {
		days[i].SetBy, days[i].SetAt = actor.UserID, now
		if y, _ := strconv.Atoi(days[i].Date[:4]); !slices.Contains(years, y) {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := needSysAdmin(ctx, tx, actor, "calendar.import"); err != nil {
			return err
		}
		for _, o := range days {
			if err := tx.UpsertDayOverride(ctx, o); err != nil {
				return err
			}
		}
		for _, y := range years {
			if err := tx.MarkYearLoaded(ctx, y, actor.UserID, now); err != nil {
				return err
			}
		}
		b, _ := json.Marshal(struct {
			Years []int      `json:"years"`
			Days  []Override `json:"days"`
		}{years, days})
		entity := "calendar:" + strconv.Itoa(years[0])
		return tx.Audit(ctx, core.AuditEntry{At: now, Actor: actor.UserID, Platform: actor.Platform, Action: "calendar.import",
			Entity: entity, After: string(b)})
	})
	if err != nil {
		return Change{}, err
	}
	for _, o := range days {
		s.cal.Set(o.Date, o.Off, o.Name)
	}
	for _, y := range years {
		s.cal.MarkYear(y)
	}
	return s.changed(ctx, actor, Change{Days: days, Years: years})
}

// MissingYear tells a sys admin next year has no holiday data.
type MissingYear struct {
	Year int `json:"year"`
}

// NoticeType names the notice.
func (MissingYear) NoticeType() string { return "calendar.missing_year" }

// CheckNextYear warns the sys admins in December when next year has no
// holiday data (only weekends would count). It runs once a day.
func (s *Service) CheckNextYear(ctx context.Context) (bool, error) {
	now := s.clock.Now().In(s.cal.Location())
	next := now.Year() + 1
	if now.Month() != time.December || s.cal.HasData(next) {
		return false, nil
	}
	for _, d := range s.cal.Special(next) {
		if d.Off {
			return false, nil // an admin has started entering next year's holidays
		}
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		admins, err := tx.Holders(ctx, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		for _, g := range admins {
			if err := tx.Notify(ctx, core.Notice{Ref: "calendar:" + itoa(next), To: core.Recipient{User: g.UserID}, Body: MissingYear{Year: next}}); err != nil {
				return err
			}
		}
		return nil
	})
	return err == nil, err
}

func itoa(n int) string { return strconv.Itoa(n) }
