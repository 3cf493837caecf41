package routine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/routine"
	"opsbot/core/routine/routinetest"
)

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time { return routinetest.At(cst, s) }

func TestStep(t *testing.T) {
	t.Parallel()
	o := routine.Occurrence{Kind: "x:check", Ref: "plan:1", Key: map[string]string{"day": "2026-11-20"}}
	for _, tc := range []struct {
		name       string
		stage      routine.Stage
		done       bool
		escalateAt time.Time
		want       string // what ran: remind, escalate or nothing
		scheduled  []core.Timer
	}{
		{name: "due and not reported: remind, escalation set after the grace", stage: routine.Remind, escalateAt: at("2026-11-20 03:00"),
			want: "remind", scheduled: []core.Timer{{Kind: "x:check", Ref: "plan:1", DueAt: at("2026-11-20 03:00"),
				Data: map[string]string{"day": "2026-11-20", "stage": "escalate"}}}},
		{name: "remind with the escalation set by the domain", stage: routine.Remind, want: "remind"},
		{name: "reported before the reminder: nothing", stage: routine.Remind, done: true, escalateAt: at("2026-11-20 03:00")},
		{name: "still not reported after the grace: escalate", stage: routine.Escalate, want: "escalate"},
		{name: "reported within the grace: no escalation", stage: routine.Escalate, done: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tx := &routinetest.Core{}
			ran := ""
			err := routine.Step(context.Background(), tx, o, tc.stage, tc.escalateAt, routine.Chase{Done: tc.done,
				Remind:   func() error { ran = "remind"; return nil },
				Escalate: func() error { ran = "escalate"; return nil }})
			require.NoError(t, err)
			require.Equal(t, tc.want, ran)
			var scheduled []core.Timer
			for _, tm := range tx.Timers {
				tm.ID = 0
				scheduled = append(scheduled, tm.Timer)
			}
			require.Equal(t, tc.scheduled, scheduled)
		})
	}
	t.Run("an error of the stage is returned", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		err := routine.Step(context.Background(), &routinetest.Core{}, o, routine.Escalate, time.Time{}, routine.Chase{Escalate: func() error { return boom }})
		require.ErrorIs(t, err, boom)
	})
}

func TestOccurrenceTimers(t *testing.T) {
	t.Parallel()
	o := routine.Occurrence{Kind: "x:verify", Ref: "plan:2", Key: map[string]string{"month": "2026-11"}}
	tm := o.Timer(routine.Remind, at("2026-11-22 09:00"))
	require.Equal(t, core.Timer{Kind: "x:verify", Ref: "plan:2", DueAt: at("2026-11-22 09:00"), Data: map[string]string{"month": "2026-11", "stage": "remind"}}, tm)
	require.Equal(t, map[string]string{"month": "2026-11"}, o.Key, "the key is not changed")
	require.Equal(t, routine.Remind, routine.StageOf(tm))
	require.Equal(t, routine.Escalate, routine.StageOf(o.Timer(routine.Escalate, tm.DueAt)))
	require.Equal(t, routine.Remind, routine.StageOf(core.Timer{}), "a timer with no stage reminds")
	require.Equal(t, map[string]string{"stage": "remind"}, routine.Occurrence{Kind: "k"}.Timer(routine.Remind, tm.DueAt).Data)
}

func TestDailyAndNext(t *testing.T) {
	t.Parallel()
	d := routine.Daily{At: "02:00", Loc: cst}
	for _, tc := range []struct {
		name      string
		from, now string
		want      string
	}{
		{name: "before today's slot", from: "2026-11-20 01:00", now: "2026-11-20 01:00", want: "2026-11-20 02:00"},
		{name: "at the slot: the next day's", from: "2026-11-20 02:00", now: "2026-11-20 02:00", want: "2026-11-21 02:00"},
		{name: "fired a little late: the next day's", from: "2026-11-20 02:00", now: "2026-11-20 02:05", want: "2026-11-21 02:00"},
		{name: "after an outage: resume from now, no replay", from: "2026-11-20 02:00", now: "2026-11-23 10:00", want: "2026-11-24 02:00"},
		{name: "across a month", from: "2026-11-30 02:00", now: "2026-11-30 02:00", want: "2026-12-01 02:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, at(tc.want), routine.Next(d.Next, at(tc.from), at(tc.now)))
		})
	}
	require.Equal(t, at("2026-11-20 02:00"), d.On(at("2026-11-20 23:59")))
	require.Equal(t, at("2026-11-21 00:00"), d.Midnight(time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)), "midnight in the zone, not in UTC")
	require.True(t, routine.Next(func(time.Time) time.Time { return time.Time{} }, at("2026-11-20 02:00"), at("2026-11-21 02:00")).IsZero())
}

func TestOrgLookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := routinetest.Org{Holders: map[org.Role][]string{org.RoleOperator: {"op1", "op2"}, org.RoleSysAdmin: {"root"}},
		Admins: map[string][]string{"op1": {"ua1"}, "op2": {"ua1", "ua2"}}}
	for _, tc := range []struct {
		user string
		ok   bool
	}{{"op1", true}, {"root", true}, {"ua1", false}, {"", false}} {
		ok, err := routine.RunsPlatform(ctx, o, tc.user)
		require.NoError(t, err)
		require.Equal(t, tc.ok, ok, tc.user)
		err = routine.RequirePlatform(ctx, o, tc.user, "backup_manage")
		if tc.ok {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, core.ErrForbidden, tc.user)
		}
	}
	users, err := routine.Resolve(ctx, o, string(org.RoleOperator))
	require.NoError(t, err)
	require.Equal(t, []string{"op1", "op2"}, users, "a role resolves to its holders")
	users, err = routine.Resolve(ctx, o, "lead1")
	require.NoError(t, err)
	require.Equal(t, []string{"lead1"}, users, "anything else is a user id")
	admins, err := routine.AdminsOf(ctx, o, []string{"op1", "gone", "op2"})
	require.NoError(t, err)
	require.Equal(t, []string{"ua1", "ua2"}, admins, "each admin once; a user no longer in the org is skipped")
	require.Equal(t, []string{"a", "b", "c"}, routine.Union([]string{"a", "", "b"}, nil, []string{"b", "c", "a"}))
}

func TestTell(t *testing.T) {
	t.Parallel()
	rec := &routinetest.Core{}
	require.NoError(t, routine.Tell(context.Background(), rec, "plan:1", []string{"a", "b"}, payload{}))
	require.Equal(t, []string{"x.test plan:1 → user:a", "x.test plan:1 → user:b"}, rec.Sent())
}

type payload struct{}

func (payload) NoticeType() string { return "x.test" }

func TestLegacyTime(t *testing.T) {
	t.Parallel()
	tm, text := routine.LegacyTime("2026-11-20 02:00")
	require.True(t, tm.IsZero())
	require.Equal(t, "2026-11-20 02:00", text, "text the previous release formatted is kept as it is")
	tm, text = routine.LegacyTime("2026-11-20T02:00:00+08:00")
	require.Equal(t, at("2026-11-20 02:00").Unix(), tm.Unix())
	require.Empty(t, text)
	tm, text = routine.LegacyTime("")
	require.True(t, tm.IsZero())
	require.Empty(t, text)
}

// nationalDay2026 is a calendar with the 2026 National Day holidays
// (10-01..07, of which 10-03 and 10-04 fall on a weekend) and their
// make-up workdays (Sunday 09-20, Saturday 10-10).
func nationalDay2026() *calendar.Calendar {
	cal := calendar.New(cst, nil)
	for _, d := range []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"} {
		cal.SetHoliday(d)
	}
	cal.SetWorkday("2026-09-20")
	cal.SetWorkday("2026-10-10")
	cal.MarkYear(2026)
	return cal
}

func TestWorkdaysFollowTheWorkingCalendar(t *testing.T) {
	t.Parallel()
	w := routine.Workdays{At: "09:00", Cal: nationalDay2026()}
	var got []string
	for n := at("2026-09-18 10:00"); n.Before(at("2026-10-14 00:00")); n = w.Next(n) {
		if s := w.Next(n); s.Before(at("2026-10-14 00:00")) {
			got = append(got, s.Format("01-02 Mon 15:04"))
		}
	}
	require.Equal(t, []string{
		"09-20 Sun 09:00", // make-up workday
		"09-21 Mon 09:00", "09-22 Tue 09:00", "09-23 Wed 09:00", "09-24 Thu 09:00", "09-25 Fri 09:00",
		"09-28 Mon 09:00", "09-29 Tue 09:00", "09-30 Wed 09:00",
		// 10-01..07 off
		"10-08 Thu 09:00", "10-09 Fri 09:00",
		"10-10 Sat 09:00", // make-up workday
		"10-12 Mon 09:00", "10-13 Tue 09:00",
	}, got)
	require.Equal(t, at("2026-10-08 09:00"), w.Next(at("2026-09-30 09:00")), "strictly after")
	require.Equal(t, at("2026-09-30 09:00"), w.Next(at("2026-09-30 08:59")))
	require.True(t, w.Due(at("2026-10-10 09:00")))
	require.False(t, w.Due(at("2026-10-01 09:00")), "a holiday is no slot")
}
