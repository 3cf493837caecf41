package calendar_test

import (
	"context"
	"time"

	"opsbot/core/calendar"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// fake is an in-memory calendar store: the shared fake org, audit and
// notices, plus the overrides and loaded years.
type fake struct {
	*fakestore.Tx
	overrides map[string]calendar.Override
	years     map[int]string
}

// newFake has a sys admin "admin" and a member "member".
func newFake() *fake {
	f := &fake{Tx: fakestore.New(), overrides: map[string]calendar.Override{}, years: map[int]string{}}
	f.AddUser("city", "admin", "member")
	f.Grant("admin", org.RoleSysAdmin, "city")
	return f
}

func (f *fake) InTx(_ context.Context, fn func(tx calendar.Tx) error) error { return fn(f) }

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
