package duty_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

var cst = fakestore.CST

// monday is 2026-11-23 08:00, an hour before the ops rotation's first handover.
var monday = time.Date(2026, 11, 23, 8, 0, 0, 0, cst)

func world(t *testing.T) *fakestore.World {
	t.Helper()
	w := fakestore.NewWorld(monday, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.Units["dc"] = org.Unit{Code: "dc", Path: "/city/dc/"}
	w.Tx.AddUser("city", "zhangsan", "lisi", "wangwu", "ua", "admin", "outsider")
	w.Tx.Grant("ua", org.RoleUnitAdmin, "dc")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	return w
}

var code = fakestore.Code

// TestRotationAndOverride: a rotation is added by an admin covering its
// unit only; shifts follow its members; a swap puts someone else on one
// day's shift, and other domains see it through OnDuty and Covering.
func TestRotationAndOverride(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	rot := duty.Rotation{Name: "ops", Unit: "dc", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day", Handover: "09:00"}
	for _, c := range []struct {
		name  string
		actor string
		rot   duty.Rotation
		code  string
	}{
		{"a bad name", "admin", duty.Rotation{Name: "运维", Members: []string{"zhangsan"}, Every: "day", Handover: "09:00"}, "code"},
		{"no members", "admin", duty.Rotation{Name: "x", Every: "day", Handover: "09:00"}, "rotation"},
		{"an unknown member", "admin", duty.Rotation{Name: "x", Unit: "dc", Members: []string{"ghost"}, Every: "day", Handover: "09:00"}, "user_not_found"},
		{"not covering the unit", "outsider", rot, "not_covering"},
		{"the unit's admin", "ua", rot, ""},
	} {
		_, err := w.Rotations.AddRotation(ctx, core.Actor{UserID: c.actor}, c.rot)
		require.Equal(t, c.code, code(err), c.name)
	}
	require.Equal(t, "duty.rotation.add", w.Tx.Audits[0].Action)
	require.Equal(t, time.Date(2026, 11, 23, 8, 0, 0, 0, cst), w.Tx.RotationMap["ops"].StartDate, "starts today")

	w.Clock.T = monday.Add(2 * time.Hour) // 10:00, first shift
	now, err := w.Rotations.Now(ctx, core.Actor{UserID: "lisi"}, "ops")
	require.NoError(t, err)
	require.Equal(t, "zhangsan", now[0].Now.Primary)
	require.Equal(t, "lisi", now[0].Now.Secondary)
	require.Equal(t, "lisi", now[0].Next.Primary)

	// A member swaps tomorrow's shift to wangwu; an outsider may not.
	require.Equal(t, "not_rotation_member", code(w.Rotations.Swap(ctx, core.Actor{UserID: "outsider"}, "ops", "2026-11-24", "wangwu")))
	require.Equal(t, "date_past", code(w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "ops", "2026-11-01", "wangwu")))
	require.NoError(t, w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "ops", "2026-11-24", "wangwu"))
	w.Clock.T = time.Date(2026, 11, 24, 10, 0, 0, 0, cst)
	od, err := w.Rotations.OnDuty(ctx, w.Tx, "ops")
	require.NoError(t, err)
	require.Equal(t, "wangwu", od.Now.Primary)
	require.True(t, od.Now.Override)
	require.Equal(t, "duty.swap", w.Tx.Audits[len(w.Tx.Audits)-1].Action)

	// The rotation of the nearest unit covers it; others fall back.
	w.Tx.Units["dc-web"] = org.Unit{Code: "dc-web", Path: "/city/dc/web/"}
	for unit, want := range map[string]string{"dc-web": "ops", "dc": "ops", "city": "default", "": "default"} {
		got, err := w.Rotations.Covering(ctx, w.Tx, unit, "default")
		require.NoError(t, err)
		require.Equal(t, want, got, unit)
	}
	_, err = w.Rotations.OnDuty(ctx, w.Tx, "nope")
	require.Equal(t, "rotation_not_found", code(err))
}

// TestRotationReads: any registered user lists the rotations, asks who is
// on duty at a given time (the same answer as Now at that time) and lists
// a range of shifts with swaps; unknown rotations, bad dates and ranges
// are refused.
func TestRotationReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "dc", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day",
		Handover: "09:00", StartDate: time.Date(2026, 11, 23, 0, 0, 0, 0, cst)}
	member := core.Actor{UserID: "outsider"}
	require.NoError(t, w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "ops", "2026-11-25", "wangwu"))

	rs, err := w.Rotations.Rotations(ctx, member)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, "ops", rs[0].Name)
	_, err = w.Rotations.Rotations(ctx, core.Actor{UserID: "ghost"})
	require.Equal(t, "not_registered", code(err))

	at := time.Date(2026, 11, 25, 12, 0, 0, 0, cst)
	od, err := w.Rotations.At(ctx, member, "ops", at)
	require.NoError(t, err)
	require.Equal(t, "wangwu", od[0].Now.Primary, "the swap")
	require.True(t, od[0].Now.Override)
	require.Equal(t, "zhangsan", od[0].Next.Primary)
	w.Clock.T = at
	now, err := w.Rotations.Now(ctx, member, "ops")
	require.NoError(t, err)
	require.Equal(t, od, now, "At(now) is Now")
	_, err = w.Rotations.At(ctx, member, "nope", at)
	require.Equal(t, "rotation_not_found", code(err))

	r, shifts, err := w.Rotations.Shifts(ctx, member, "ops", "2026-11-24", "2026-11-26")
	require.NoError(t, err)
	require.Equal(t, "ops", r.Name)
	var got []string
	for _, s := range shifts {
		got = append(got, s.Primary+" "+s.Start.In(cst).Format("01-02 15:04"))
	}
	require.Equal(t, []string{"zhangsan 11-23 09:00", "lisi 11-24 09:00", "wangwu 11-25 09:00", "zhangsan 11-26 09:00"}, got)

	for _, c := range []struct{ name, from, to, code string }{
		{"a bad date", "2026-11-xx", "2026-11-26", "date"},
		{"a bad end", "2026-11-24", "26/11/2026", "date"},
		{"the end before the start", "2026-11-26", "2026-11-24", "duty_range"},
		{"too long", "2026-01-01", "2027-01-02", "duty_range"},
	} {
		_, _, err := w.Rotations.Shifts(ctx, member, "ops", c.from, c.to)
		require.Equal(t, c.code, code(err), c.name)
	}
	_, _, err = w.Rotations.Shifts(ctx, member, "nope", "2026-11-24", "2026-11-26")
	require.Equal(t, "rotation_not_found", code(err))
	_, _, err = w.Rotations.Shifts(ctx, core.Actor{UserID: "ghost"}, "ops", "2026-11-24", "2026-11-26")
	require.Equal(t, "not_registered", code(err))
}

// TestHandover (W 7 on-duty policy): when the shift changes the outgoing
// and incoming people get the handover card with the open items; the
// incoming person is reminded after 30 minutes and the rotation's admins
// told after an hour; accepting stops both; only the incoming may accept.
func TestHandover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		acceptAt time.Duration // after the handover; 0: never
		reminded []string
		admins   []string
	}{
		{"accepted at once", time.Minute, nil, nil},
		{"accepted after the reminder", 40 * time.Minute, []string{"user:lisi|handover:1"}, nil},
		{"never accepted", 0, []string{"user:lisi|handover:1"}, []string{"user:ua|handover:1", "user:admin|handover:1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := world(t)
			w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "dc", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day",
				Handover: "09:00", StartDate: time.Date(2026, 11, 22, 0, 0, 0, 0, cst)}
			w.Tx.Pending = 2
			_, err := w.Incidents.Declare(ctx, core.Actor{UserID: "wangwu"}, "vpn down", 3, "", "")
			require.NoError(t, err)
			w.Tx.Reset()

			handover := time.Date(2026, 11, 23, 9, 0, 0, 0, cst)
			w.Clock.T = handover.Add(-time.Minute)
			n, err := w.Handovers.Start(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "no change of shift yet")
			w.Clock.T = handover.Add(5 * time.Minute)
			n, err = w.Handovers.Start(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = w.Handovers.Start(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "once per shift")
			require.Equal(t, []string{"user:zhangsan|handover:1#card", "user:lisi|handover:1#card"}, w.Tx.Sent("duty.handover"))
			card := w.Tx.Payloads("duty.handover")[0].(duty.HandoverCard)
			require.Equal(t, "incident #1 L3 vpn down [declared]\npending requests: 2", card.OpenItems)
			require.Equal(t, handover, card.ShiftStart)
			require.Equal(t, "pending", card.State)

			_, err = w.Handovers.Accept(ctx, core.Actor{UserID: "zhangsan"}, 1)
			require.Equal(t, "not_incoming", code(err))
			h, err := w.Handovers.Notes(ctx, core.Actor{UserID: "zhangsan"}, "watch the vpn")
			require.NoError(t, err)
			require.Equal(t, "watch the vpn", h.Notes)

			for _, at := range []time.Duration{time.Minute, 29 * time.Minute, 30 * time.Minute, 40 * time.Minute, 59 * time.Minute, time.Hour, 2 * time.Hour} {
				w.Clock.T = handover.Add(5 * time.Minute).Add(at)
				if c.acceptAt != 0 && at == c.acceptAt {
					h, err := w.Handovers.Accept(ctx, core.Actor{UserID: "lisi"}, 1)
					require.NoError(t, err)
					require.Equal(t, "accepted", h.State)
					_, err = w.Handovers.Accept(ctx, core.Actor{UserID: "lisi"}, 1)
					require.Equal(t, "handover_accepted", code(err))
				}
				_, err := w.Fire(ctx)
				require.NoError(t, err)
				if at < 30*time.Minute {
					require.Empty(t, w.Tx.Sent("duty.handover_late"), "no reminder before 30 min")
				}
				admins := 0
				for _, p := range w.Tx.Payloads("duty.handover_late") {
					if p.(duty.HandoverLate).Round == 2 {
						admins++
					}
				}
				if at < time.Hour || c.acceptAt != 0 {
					require.Zero(t, admins, "no admins before an hour (%s)", at)
				} else {
					require.Equal(t, 2, admins, "the admins after an hour (%s)", at)
				}
			}
			var reminded, admins []string
			for k, p := range w.Tx.Payloads("duty.handover_late") {
				to := w.Tx.Sent("duty.handover_late")[k]
				if p.(duty.HandoverLate).Round == 1 {
					reminded = append(reminded, to)
				} else {
					admins = append(admins, to)
				}
			}
			require.Equal(t, c.reminded, reminded)
			require.Equal(t, c.admins, admins)
			require.Len(t, w.Tx.Sent("update.duty.handover"), map[bool]int{true: 2, false: 1}[c.acceptAt != 0], "notes, then the signature")
		})
	}
}

// TestSwapYesterdaysShiftBeforeTheHandover: at 08:30 the shift that began
// yesterday at 09:00 is still on, so it may be swapped (the person on duty
// hands the rest of the night over); the day before yesterday's may not.
// The day is the calendar's local day at any hour (it was cut at UTC
// midnight, 08:00 in China, so from 08:00 to 09:00 yesterday's running
// shift was refused as past).
func TestSwapYesterdaysShiftBeforeTheHandover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	rot := duty.Rotation{Name: "ops", Unit: "dc", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day", Handover: "09:00"}
	_, err := w.Rotations.AddRotation(ctx, core.Actor{UserID: "ua"}, rot)
	require.NoError(t, err)
	for _, at := range []time.Time{
		time.Date(2026, 11, 25, 0, 30, 0, 0, cst),
		time.Date(2026, 11, 25, 7, 59, 0, 0, cst),
		time.Date(2026, 11, 25, 8, 30, 0, 0, cst),
		time.Date(2026, 11, 25, 23, 59, 0, 0, cst),
	} {
		w.Clock.T = at
		require.NoError(t, w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "ops", "2026-11-24", "wangwu"), at.Format("15:04"))
		require.Equal(t, "date_past", code(w.Rotations.Swap(ctx, core.Actor{UserID: "lisi"}, "ops", "2026-11-23", "wangwu")), at.Format("15:04"))
	}
}
