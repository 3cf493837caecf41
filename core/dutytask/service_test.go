package dutytask

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
)

var shanghai = time.FixedZone("CST", 8*3600)

// weekdays is a calendar without holidays.
type weekdays struct{}

func (weekdays) IsWorkday(t time.Time) bool {
	d := t.In(shanghai).Weekday()
	return d != time.Saturday && d != time.Sunday
}
func (weekdays) Location() *time.Location { return shanghai }

type fake struct {
	*routinetest.Core
	routinetest.Org
	tasks map[int64]Task
	users map[string]bool
}

func (f *fake) InTx(_ context.Context, fn func(Tx) error) error { return fn(f) }
func (f *fake) Exclusive(ctx context.Context, _ string, fn func(context.Context) error) error {
	return fn(ctx)
}
func (f *fake) InsertDutyTask(_ context.Context, t *Task) error {
	t.ID = int64(len(f.tasks) + 1)
	f.tasks[t.ID] = *t
	return nil
}
func (f *fake) DutyTask(_ context.Context, id int64, _ bool) (Task, error) {
	t, ok := f.tasks[id]
	if !ok {
		return Task{}, fmt.Errorf("task %d: %w", id, core.ErrNotFound)
	}
	return t, nil
}
func (f *fake) DutyTasks(context.Context) ([]Task, error) {
	var out []Task
	for _, t := range f.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}
func (f *fake) UpdateDutyTask(_ context.Context, t Task) error { f.tasks[t.ID] = t; return nil }
func (f *fake) DutyTaskSeeded(_ context.Context, key string) (bool, error) {
	for _, t := range f.tasks {
		if t.SeedKey == key {
			return true, nil
		}
	}
	return false, nil
}
func (f *fake) User(_ context.Context, id string) (org.User, error) {
	if !f.users[id] {
		return org.User{}, fmt.Errorf("user %s: %w", id, core.ErrNotFound)
	}
	return org.User{ID: id}, nil
}

func setup() (*Service, *fake, *routinetest.Clock) {
	f := &fake{Core: &routinetest.Core{}, tasks: map[int64]Task{}, users: map[string]bool{"op": true, "admin": true, "wang": true},
		Org: routinetest.Org{Holders: map[org.Role][]string{org.RoleOperator: {"op"}, org.RoleSysAdmin: {"admin"}},
			Admins: map[string][]string{"op": {"lead"}, "wang": {"lead"}}}}
	clock := &routinetest.Clock{T: routinetest.At(shanghai, "2026-03-02 10:00")}
	return NewService(f, clock, weekdays{}), f, clock
}

func day(s string) time.Time { t, _ := time.ParseInLocation("2006-01-02", s, shanghai); return t }

func TestRules(t *testing.T) {
	for _, c := range []struct{ name, every, rule, from, want string }{
		{"monthly day 5", Month, "day 5", "2026-03-06", "2026-04-05"},
		{"monthly on the day", Month, "day 5", "2026-03-05", "2026-03-05"},
		{"first working day skips the weekend", Month, "first-working-day", "2026-02-10", "2026-03-02"},
		{"quarterly", Quarter, "day 20", "2026-01-21", "2026-04-20"},
		{"yearly", Year, "03-31", "2026-04-01", "2027-03-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRule(c.every, c.rule)
			require.NoError(t, err)
			require.Equal(t, day(c.want), NextDue(c.every, r, weekdays{}, day(c.from)))
		})
	}
	_, err := ParseRule(Month, "03-31")
	require.True(t, errors.Is(err, core.ErrInvalid), "MM-DD is for yearly duties")
	_, err = ParseRule(Month, "day 31")
	require.True(t, errors.Is(err, core.ErrInvalid))
}

func TestDutyRemindedThenEscalatedThenDoneMovesOn(t *testing.T) {
	svc, f, clock := setup()
	ctx := context.Background()
	fire := func(until time.Time) {
		require.NoError(t, f.Run(clock, until, func(id int64) error { return svc.HandleTimer(ctx, id) }))
	}
	task, err := svc.Add(ctx, core.Actor{UserID: "op"}, "机房巡检月报", Month, "operator", "day 5")
	require.NoError(t, err)
	require.Equal(t, day("2026-03-05"), task.NextDue)
	fire(routinetest.At(shanghai, "2026-03-05 23:00"))
	require.Equal(t, []string{"duty_task.due duty-task:1 → user:op"}, f.Sent(), "reminded (at once: less than 3 days to go)")
	fire(routinetest.At(shanghai, "2026-03-06 09:00"))
	require.Equal(t, []string{"duty_task.overdue duty-task:1 → user:lead", "duty_task.overdue duty-task:1 → user:admin"}, f.Sent())

	_, err = svc.Done(ctx, core.Actor{UserID: "wang"}, 1, "")
	require.True(t, errors.Is(err, core.ErrForbidden))
	task, err = svc.Done(ctx, core.Actor{UserID: "op"}, 1, "已提交")
	require.NoError(t, err)
	require.Equal(t, day("2026-04-05"), task.NextDue)
	fire(routinetest.At(shanghai, "2026-04-01 00:00"))
	require.Empty(t, f.Sent())
	fire(routinetest.At(shanghai, "2026-04-02 09:00"))
	require.Equal(t, []string{"duty_task.due duty-task:1 → user:op"}, f.Sent())
	require.Equal(t, []string{"duty_task.add", "duty_task.overdue", "duty_task.done"}, f.Actions())
}

func TestSeedIsIdempotentAndCitesTheClauses(t *testing.T) {
	svc, f, _ := setup()
	n, err := svc.SeedDuties(context.Background())
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = svc.SeedDuties(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	var names []string
	for _, t := range f.tasks {
		names = append(names, t.Name)
	}
	for _, c := range []string{"W 5.5 d", "W 8.1 e", "W 8.2 d", "W 9.1 k"} {
		require.Contains(t, fmt.Sprint(names), c)
	}
}
