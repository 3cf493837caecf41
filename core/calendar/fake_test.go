package calendar_test

import (
	"context"
	"fmt"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
)

// fake is an in-memory calendar store: users and grants, overrides,
// loaded years, audit entries and notices. A failing InTx writes nothing.
type fake struct {
	users     map[string]org.User
	grants    []org.Grant
	overrides map[string]calendar.Override
	years     map[int]string
	audit     []core.AuditEntry
	notices   []core.Notice
}

func newFake() *fake {
	return &fake{users: map[string]org.User{"admin": {ID: "admin"}, "member": {ID: "member"}},
		grants:    []org.Grant{{UserID: "admin", Role: org.RoleSysAdmin, Scope: "city"}},
		overrides: map[string]calendar.Override{}, years: map[int]string{}}
}

// InTx runs fn on a copy and keeps it only when fn succeeds.
func (f *fake) InTx(_ context.Context, fn func(tx calendar.Tx) error) error {
	c := *f
	c.overrides = map[string]calendar.Override{}
	for k, v := range f.overrides {
		c.overrides[k] = v
	}
	c.years = map[int]string{}
	for k, v := range f.years {
		c.years[k] = v
	}
	c.audit = append([]core.AuditEntry(nil), f.audit...)
	c.notices = append([]core.Notice(nil), f.notices...)
	if err := fn(&c); err != nil {
		return err
	}
	*f = c
	return nil
}

func (f *fake) Audit(_ context.Context, e core.AuditEntry) error {
	f.audit = append(f.audit, e)
	return nil
}
func (f *fake) Notify(_ context.Context, n core.Notice) error {
	f.notices = append(f.notices, n)
	return nil
}

func (f *fake) User(_ context.Context, id string) (org.User, error) {
	u, ok := f.users[id]
	if !ok {
		return u, fmt.Errorf("user %s: %w", id, core.ErrNotFound)
	}
	return u, nil
}

func (f *fake) GrantsOf(_ context.Context, id string) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.UserID == id {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fake) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.Role == role {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fake) UpsertDayOverride(_ context.Context, o calendar.Override) error {
	f.overrides[o.Date] = o
	return nil
}

func (f *fake) DayOverrides(_ context.Context) ([]calendar.Override, error) {
	var out []calendar.Override
	for _, o := range f.overrides {
		out = append(out, o)
	}
	return out, nil
}

func (f *fake) MarkYearLoaded(_ context.Context, year int, by string, _ time.Time) error {
	f.years[year] = by
	return nil
}

func (f *fake) LoadedYears(_ context.Context) ([]int, error) {
	var out []int
	for y := range f.years {
		out = append(out, y)
	}
	return out, nil
}

// clock is a fixed clock.
type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }
