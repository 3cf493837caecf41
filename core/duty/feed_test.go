package duty_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

// feedTx is the fake store with the feeds besides.
type feedTx struct {
	*fakestore.Tx
	feeds   []duty.Feed
	changed map[string]time.Time
	swapped map[string]map[string]time.Time
}

func (f *feedTx) InTx(_ context.Context, fn func(duty.FeedTx) error) error { return fn(f) }

func (f *feedTx) ShiftChanges(_ context.Context, rotation string) (time.Time, map[string]time.Time, error) {
	return f.changed[rotation], f.swapped[rotation], nil
}

func (f *feedTx) InsertFeed(_ context.Context, k duty.Feed) (int64, error) {
	k.ID = int64(len(f.feeds) + 1)
	f.feeds = append(f.feeds, k)
	return k.ID, nil
}

func (f *feedTx) FeedByHash(_ context.Context, hash string) (duty.Feed, error) {
	for _, k := range f.feeds {
		if k.Hash == hash {
			return k, nil
		}
	}
	return duty.Feed{}, core.ErrNotFound
}

func (f *feedTx) Feeds(_ context.Context, user string) ([]duty.Feed, error) {
	var out []duty.Feed
	for _, k := range f.feeds {
		if k.UserID == user && k.RevokedAt.IsZero() {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	return out, nil
}

func (f *feedTx) RevokeFeed(_ context.Context, k duty.Feed) error {
	f.feeds[k.ID-1] = k
	return nil
}

// feedWorld is the duty world with two rotations and the feed service.
func feedWorld(t *testing.T) (*fakestore.World, *feedTx, *duty.Feeds) {
	t.Helper()
	ctx := context.Background()
	w := world(t)
	for _, r := range []duty.Rotation{
		{Name: "ops", Unit: "dc", Members: []string{"zhangsan", "lisi"}, Every: "day", Handover: "09:00"},
		{Name: "net", Unit: "dc", Members: []string{"wangwu", "zhangsan"}, Every: "week", Handover: "09:00"},
	} {
		_, err := w.Rotations.AddRotation(ctx, core.Actor{UserID: "admin"}, r)
		require.NoError(t, err)
	}
	ft := &feedTx{Tx: w.Tx, changed: map[string]time.Time{}, swapped: map[string]map[string]time.Time{}}
	return w, ft, duty.NewFeeds(ft, w.Clock, w.Cal, duty.FeedConfig{Back: 7 * 24 * time.Hour, Ahead: 14 * 24 * time.Hour})
}

// TestFeedCreateAndRevoke: a registered user makes a feed of their own
// shifts and one of a rotation's; the secret is shown once and kept
// hashed; a new feed of the same kind replaces the old one; revoking
// ends a feed at once; every change is audited; strangers, unknown
// rotations and bad secrets are refused.
func TestFeedCreateAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, ft, feeds := feedWorld(t)
	zs := core.Actor{UserID: "zhangsan"}

	_, _, err := feeds.Create(ctx, core.Actor{UserID: "ghost"}, "")
	require.Equal(t, "not_registered", code(err))
	_, _, err = feeds.Create(ctx, zs, "nope")
	require.Equal(t, "rotation_not_found", code(err))

	mine, f, err := feeds.Create(ctx, zs, "")
	require.NoError(t, err)
	require.Len(t, mine, duty.FeedSecretLen)
	require.Equal(t, core.HashSecret(mine), ft.feeds[0].Hash, "only the hash is kept")
	require.Equal(t, mine[:6]+"…", f.Prefix)
	require.True(t, f.Mine())
	last := w.Tx.Audits[len(w.Tx.Audits)-1]
	require.Equal(t, "duty.feed.create", last.Action)
	require.Equal(t, f.Ref(), last.Entity)
	require.NotContains(t, string(last.After), mine, "the audit log never holds the secret")
	require.NotContains(t, string(last.After), f.Hash, "nor its hash")

	// Anyone registered may subscribe to a rotation they are not in, as
	// with /duty now.
	_, _, err = feeds.Create(ctx, core.Actor{UserID: "outsider"}, "ops")
	require.NoError(t, err)

	ops, _, err := feeds.Create(ctx, zs, "ops")
	require.NoError(t, err)
	cal, err := feeds.Calendar(ctx, ops)
	require.NoError(t, err)
	require.Equal(t, "ops", cal.Feed.Rotation)

	// A new "ops" feed replaces the old: the old URL is gone at once.
	ops2, _, err := feeds.Create(ctx, zs, "ops")
	require.NoError(t, err)
	_, err = feeds.Calendar(ctx, ops)
	require.Equal(t, "feed_not_found", code(err))
	_, err = feeds.Calendar(ctx, ops2)
	require.NoError(t, err)
	list, err := feeds.List(ctx, zs)
	require.NoError(t, err)
	require.Len(t, list, 2, "one live feed of each kind")

	// Revoking one, then all.
	gone, err := feeds.Revoke(ctx, zs, list[0].ID)
	require.NoError(t, err)
	require.Len(t, gone, 1)
	require.Equal(t, "zhangsan", gone[0].RevokedBy)
	_, err = feeds.Revoke(ctx, zs, list[0].ID)
	require.Equal(t, "feed_not_found", code(err), "already revoked")
	_, err = feeds.Revoke(ctx, core.Actor{UserID: "lisi"}, list[1].ID)
	require.Equal(t, "feed_not_found", code(err), "someone else's feed")
	gone, err = feeds.Revoke(ctx, zs, 0)
	require.NoError(t, err)
	require.Len(t, gone, 1)
	for _, s := range []string{mine, ops2} {
		_, err = feeds.Calendar(ctx, s)
		require.Equal(t, "feed_not_found", code(err))
	}
	var actions []string
	for _, a := range w.Tx.Audits {
		if a.Entity[:9] == "ical_feed" {
			actions = append(actions, a.Action)
		}
	}
	require.Equal(t, []string{"duty.feed.create", "duty.feed.create", "duty.feed.create", "duty.feed.revoke", "duty.feed.create",
		"duty.feed.revoke", "duty.feed.revoke"}, actions)

	// Secrets of the wrong shape, unknown ones, and a removed owner's.
	for _, s := range []string{"", "x", mine[:51], mine + "a", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrst"} {
		_, err = feeds.Calendar(ctx, s)
		require.Equal(t, "feed_not_found", code(err), s)
	}
	out, _, err := feeds.Create(ctx, core.Actor{UserID: "outsider"}, "")
	require.NoError(t, err)
	u := w.Tx.Users["outsider"]
	u.Removed = true
	w.Tx.Users["outsider"] = u
	_, err = feeds.Calendar(ctx, out)
	require.Equal(t, "feed_not_found", code(err))
}

// TestFeedCalendar: a rotation's feed lists every shift in the window,
// swaps included; "my shifts" lists the owner's shifts on every rotation
// (a swap onto them included, a swap away left out), in order of start,
// with names and when each shift last changed.
func TestFeedCalendar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, ft, feeds := feedWorld(t)
	w.Clock.T = monday.Add(2 * time.Hour) // 2026-11-23 10:00, ops's first shift
	zs := core.Actor{UserID: "zhangsan"}
	require.NoError(t, w.Rotations.Swap(ctx, zs, "ops", "2026-11-25", "wangwu"))
	swapAt := time.Date(2026, 11, 23, 10, 5, 0, 0, cst)
	ft.changed["ops"] = monday
	ft.swapped["ops"] = map[string]time.Time{"2026-11-25": swapAt}

	rot, _, err := feeds.Create(ctx, zs, "ops")
	require.NoError(t, err)
	cal, err := feeds.Calendar(ctx, rot)
	require.NoError(t, err)
	require.Equal(t, w.Clock.T.Add(-7*24*time.Hour), cal.From)
	require.Equal(t, w.Clock.T.Add(14*24*time.Hour), cal.To)
	_, want, err := w.Rotations.Shifts(ctx, zs, "ops", "2026-11-16", "2026-12-07")
	require.NoError(t, err)
	var got []duty.Shift
	for _, s := range cal.Shifts {
		got = append(got, s.Shift)
		require.Equal(t, "ops", s.Rotation)
	}
	require.Equal(t, want[:len(got)], got, "the rotation's shifts, as /duty gives them")
	require.Len(t, got, 15, "from the first shift (Nov 23 09:00) to Dec 7 10:00")
	require.Equal(t, "wangwu", cal.Shifts[2].Shift.Primary)
	require.True(t, cal.Shifts[2].Shift.Override)
	require.Equal(t, swapAt, cal.Shifts[2].Modified, "a swapped shift changed when swapped")
	require.Equal(t, monday, cal.Shifts[1].Modified, "others when the rotation did")

	mine, _, err := feeds.Create(ctx, zs, "")
	require.NoError(t, err)
	cal, err = feeds.Calendar(ctx, mine)
	require.NoError(t, err)
	var lines []string
	for _, s := range cal.Shifts {
		require.Equal(t, "zhangsan", s.Shift.Primary)
		lines = append(lines, s.Rotation+" "+s.Shift.Start.In(cst).Format("01-02 15:04")+"→"+s.Shift.End.In(cst).Format("01-02 15:04"))
	}
	require.Equal(t, []string{
		"ops 11-23 09:00→11-24 09:00",
		// 11-25 was swapped to wangwu.
		"ops 11-27 09:00→11-28 09:00",
		"ops 11-29 09:00→11-30 09:00",
		"net 11-30 09:00→12-07 09:00",
		"ops 12-01 09:00→12-02 09:00",
		"ops 12-03 09:00→12-04 09:00",
		"ops 12-05 09:00→12-06 09:00",
		"ops 12-07 09:00→12-08 09:00",
	}, lines)
	require.Equal(t, "zhangsan", cal.Owner.ID)
	require.Equal(t, "lisi", cal.Shifts[0].SecondaryName)
}

func (f *feedTx) HandoversBetween(_ context.Context, rotation string, from, to time.Time) ([]duty.Handover, error) {
	var out []duty.Handover
	for _, h := range f.HandoverMap {
		if h.Rotation == rotation && !h.ShiftStart.Before(from) && h.ShiftStart.Before(to) {
			out = append(out, *h)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ShiftStart.Before(out[b].ShiftStart) })
	return out, nil
}

// TestScheduleMonth: a rotation's month, day by day, marks PRC holidays
// (the weekend inside 国庆 too), make-up workdays and weekends; tells who
// is on duty each day (nobody before the first shift), the swaps, and the
// handovers, signed or not; "my shifts" are the actor's on every rotation.
func TestScheduleMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	w.Clock.T = time.Date(2026, 9, 15, 8, 0, 0, 0, cst)
	for _, d := range []string{"2026-09-25", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"} {
		w.Cal.Set(d, true, "法定节假日")
	}
	for _, d := range []string{"2026-09-20", "2026-10-10"} {
		w.Cal.Set(d, false, "调休上班")
	}
	w.Cal.MarkYear(2026)
	_, err := w.Rotations.AddRotation(ctx, core.Actor{UserID: "admin"},
		duty.Rotation{Name: "desk", Unit: "dc", Members: []string{"zhangsan", "lisi"}, Every: "day", Handover: "09:00", SkipHolidays: true})
	require.NoError(t, err)
	require.NoError(t, w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "desk", "2026-09-29", "wangwu"))
	signed := time.Date(2026, 9, 16, 9, 10, 0, 0, cst)
	w.Tx.HandoverMap[1] = &duty.Handover{ID: 1, Rotation: "desk", ShiftStart: time.Date(2026, 9, 16, 9, 0, 0, 0, cst), Outgoing: "zhangsan",
		Incoming: "lisi", State: "accepted", AcceptedAt: &signed}
	w.Tx.HandoverMap[2] = &duty.Handover{ID: 2, Rotation: "desk", ShiftStart: time.Date(2026, 9, 17, 9, 0, 0, 0, cst), Outgoing: "lisi",
		Incoming: "zhangsan", State: "pending"}
	ft := &feedTx{Tx: w.Tx}
	sched := duty.NewSchedule(scheduleStore{ft}, w.Clock, w.Cal)
	city := org.View{Basis: org.ViewCity, All: true}

	_, err = sched.Month(ctx, core.Actor{UserID: "ghost"}, city, "desk", "2026-09")
	require.Equal(t, "not_registered", code(err))
	_, err = sched.Month(ctx, core.Actor{UserID: "outsider"}, city, "desk", "2026-9")
	require.Equal(t, "month", code(err))
	_, err = sched.Month(ctx, core.Actor{UserID: "outsider"}, city, "nope", "2026-09")
	require.Equal(t, "rotation_not_found", code(err))

	m, err := sched.Month(ctx, core.Actor{UserID: "outsider"}, city, "desk", "") // the current month
	require.NoError(t, err)
	require.Len(t, m.Days, 30)
	day := func(n int) duty.MonthDay { return m.Days[n-1] }
	require.True(t, day(15).Today)
	require.Empty(t, day(14).Duty.Primary, "before the first shift")
	require.Equal(t, "zhangsan", day(15).Duty.Primary)
	require.False(t, day(15).Starts, "the first shift has no handover")
	require.True(t, day(16).Starts)
	require.Equal(t, "accepted", day(16).Handover.State)
	require.Equal(t, "pending", day(17).Handover.State)
	require.Nil(t, day(18).Handover, "no handover opened yet")
	require.Equal(t, duty.DayMakeUp, day(20).Kind)
	require.Equal(t, "调休上班", day(20).Name)
	require.True(t, day(20).Starts, "a make-up workday hands over")
	require.Equal(t, duty.DayWeekend, day(13).Kind)
	require.Equal(t, duty.DayWorkday, day(28).Kind)
	for _, d := range []int{25, 26, 27} { // 中秋 with its weekend
		require.Equal(t, duty.DayHoliday, day(d).Kind, d)
		require.Equal(t, "法定节假日", day(d).Name)
		require.False(t, day(d).Starts)
		require.Equal(t, day(24).Duty, day(d).Duty, "Thursday's shift stays on")
	}
	require.Equal(t, "wangwu", day(29).Duty.Primary)
	require.True(t, day(29).Duty.Override)
	require.Equal(t, "wangwu", m.Names["wangwu"])

	m, err = sched.Month(ctx, core.Actor{UserID: "outsider"}, city, "desk", "2026-10")
	require.NoError(t, err)
	require.Len(t, m.Days, 31)
	for d := 1; d <= 7; d++ {
		require.Equal(t, duty.DayHoliday, day(d).Kind, "10-%02d", d)
		require.Equal(t, m.Days[0].Duty, day(d).Duty, "one shift through 国庆")
	}
	require.Equal(t, duty.DayMakeUp, day(10).Kind)
	require.Equal(t, duty.DayWeekend, day(11).Kind)
	require.True(t, day(8).Starts)

	mine, err := sched.Mine(ctx, core.Actor{UserID: "zhangsan"}, "2026-09")
	require.NoError(t, err)
	require.NotEmpty(t, mine)
	for _, s := range mine {
		require.Equal(t, "zhangsan", s.Shift.Primary)
		require.Equal(t, "desk", s.Rotation)
	}
	require.Equal(t, time.Date(2026, 9, 15, 9, 0, 0, 0, cst), mine[0].Shift.Start)
}

// TestRotationsInView: the city and operations see every rotation; an
// admin the rotations of their units and those covering them; a member
// the rotations they are in. A month outside the view is refused.
func TestRotationsInView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	w.Tx.Units["xc"] = org.Unit{Code: "xc", Path: "/city/xc/"}
	w.Tx.Units["dc-web"] = org.Unit{Code: "dc-web", Path: "/city/dc/web/"}
	for _, r := range []duty.Rotation{
		{Name: "city-ops", Unit: "city", Members: []string{"zhangsan"}, Every: "day", Handover: "09:00"},
		{Name: "dc-desk", Unit: "dc", Members: []string{"lisi"}, Every: "day", Handover: "09:00"},
		{Name: "dc-web", Unit: "dc-web", Members: []string{"lisi"}, Every: "day", Handover: "09:00"},
		{Name: "xc-desk", Unit: "xc", Members: []string{"wangwu"}, Every: "day", Handover: "09:00"},
	} {
		_, err := w.Rotations.AddRotation(ctx, core.Actor{UserID: "admin"}, r)
		require.NoError(t, err)
	}
	sched := duty.NewSchedule(scheduleStore{&feedTx{Tx: w.Tx}}, w.Clock, w.Cal)
	dc := org.View{Basis: org.ViewUnits, Units: []string{"dc", "dc-web"}, Tree: []org.Unit{w.Tx.Units["dc"], w.Tx.Units["dc-web"]}}
	web := org.View{Basis: org.ViewUnits, Units: []string{"dc-web"}, Tree: []org.Unit{w.Tx.Units["dc-web"]}}
	for _, c := range []struct {
		name string
		view org.View
		want []string
	}{
		{"city", org.View{Basis: org.ViewCity, All: true}, []string{"city-ops", "dc-desk", "dc-web", "xc-desk"}},
		{"a district", dc, []string{"city-ops", "dc-desk", "dc-web"}},
		{"a unit below it", web, []string{"city-ops", "dc-desk", "dc-web"}},
		{"a member", org.View{Basis: org.ViewOwn, Own: "lisi"}, []string{"dc-desk", "dc-web"}},
		{"a member of none", org.View{Basis: org.ViewOwn, Own: "outsider"}, nil},
	} {
		rs, err := sched.Rotations(ctx, core.Actor{UserID: "outsider"}, c.view)
		require.NoError(t, err, c.name)
		var got []string
		for _, r := range rs {
			got = append(got, r.Name)
		}
		require.Equal(t, c.want, got, c.name)
	}
	_, err := sched.Month(ctx, core.Actor{UserID: "outsider"}, dc, "xc-desk", "")
	require.Equal(t, "outside_view", code(err))
	_, err = sched.Month(ctx, core.Actor{UserID: "outsider"}, dc, "city-ops", "")
	require.NoError(t, err)
}

type scheduleStore struct{ f *feedTx }

func (s scheduleStore) InTx(_ context.Context, fn func(duty.ScheduleTx) error) error { return fn(s.f) }
