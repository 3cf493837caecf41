package calendar

import (
	"context"
	"encoding/json"
	"errors"
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
}

// Store runs calendar work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Service keeps the calendar's admin overrides.
type Service struct {
	store Store
	cal   *Calendar
	clock core.Clock
}

// NewService returns the calendar service over cal.
func NewService(store Store, cal *Calendar, clock core.Clock) *Service {
	return &Service{store: store, cal: cal, clock: clock}
}

// Calendar returns the calendar the service keeps.
func (s *Service) Calendar() *Calendar { return s.cal }

// LoadOverrides applies every stored override to the calendar.
func (s *Service) LoadOverrides(ctx context.Context) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		os, err := tx.DayOverrides(ctx)
		for _, o := range os {
			s.cal.Set(o.Date, o.Off, o.Name)
		}
		return err
	})
}

// Set marks a date a working day or a holiday; sys admins only.
func (s *Service) Set(ctx context.Context, actor core.Actor, date, kind, name string) (Override, error) {
	d, err := time.ParseInLocation("2006-01-02", date, s.cal.Location())
	if err != nil {
		return Override{}, core.Invalid("date", "value", date)
	}
	if kind != "workday" && kind != "holiday" {
		return Override{}, core.Invalid("day_kind", "value", kind)
	}
	o := Override{Date: d.Format("2006-01-02"), Off: kind == "holiday", Name: strings.TrimSpace(name), SetBy: actor.UserID, SetAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx Tx) error {
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
			return core.Forbidden("need_sys_admin", "action", "calendar.set")
		}
		if err := tx.UpsertDayOverride(ctx, o); err != nil {
			return err
		}
		b, _ := json.Marshal(o)
		return tx.Audit(ctx, core.AuditEntry{At: o.SetAt, Actor: actor.UserID, Platform: actor.Platform, Action: "calendar.set",
			Entity: "calendar:" + o.Date, After: string(b)})
	})
	if err != nil {
		return Override{}, err
	}
	// Applied once committed; other replicas apply it at their next start.
	s.cal.Set(o.Date, o.Off, o.Name)
	return o, nil
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
