package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
	"opsbot/core/trend"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

func TestTrendSeriesAggregateInPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	at := func(v string) time.Time { return routinetest.At(loc, v) }
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := s.Pool().Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO units (code, name, level, parent, path, created_at) VALUES
		('city', '市', 'city', NULL, '/city/', now()), ('d1', '东城', 'district', 'city', '/city/d1/', now()),
		('d2', '西城', 'district', 'city', '/city/d2/', now())`)
	exec(`INSERT INTO users (id, name, unit, created_at) VALUES ('u', '用户', 'd1', now())`)
	incident := func(unit string, level int, declared time.Time, acked, resolved time.Duration) int64 {
		var ack, res *time.Time
		if acked > 0 {
			a := declared.Add(acked)
			ack = &a
		}
		if resolved > 0 {
			r := declared.Add(resolved)
			res = &r
		}
		var id int64
		require.NoError(t, s.Pool().QueryRow(ctx, `INSERT INTO incidents (title, level, state, unit, declared_by, created_at, acked_at, resolved_at, last_update_at)
			VALUES ('x', $1, 'declared', $2, 'u', $3, $4, $5, $3) RETURNING id`, level, unit, declared, ack, res).Scan(&id))
		return id
	}
	escalate := func(id int64, when time.Time) {
		exec(`INSERT INTO incident_events (incident_id, at, actor, kind) VALUES ($1, $2, 'system', 'escalate')`, id, when)
	}
	i1 := incident("d1", 1, at("2026-11-24 10:00"), 4*time.Minute, time.Hour)
	escalate(i1, at("2026-11-24 10:15"))
	escalate(i1, at("2026-11-24 10:30"))
	incident("d1", 3, at("2026-11-24 23:59"), 6*time.Minute, 0)
	incident("d1", 3, at("2026-11-25 00:00"), 0, 0)
	i4 := incident("d2", 2, at("2026-11-24 11:00"), time.Hour, 0)
	escalate(i4, at("2026-11-24 12:00"))
	incident("d1", 4, at("2026-11-11 23:59"), 0, 0)
	exec(`INSERT INTO incident_events (incident_id, at, actor, kind) VALUES ($1, $2, 'u', 'note')`, i1, at("2026-11-24 10:20"))

	ticket := func(unit, kind string, due time.Time, answered *time.Time) {
		exec(`INSERT INTO tickets (kind, title, asker, unit, state, created_at, due_at, answered_at, clock_start)
			VALUES ($1, 't', 'u', $2, 'open', $3, $4, $5, $3)`, kind, unit, due.Add(-48*time.Hour), due, answered)
	}
	ptr := func(v time.Time) *time.Time { return &v }
	ticket("d1", "tech", at("2026-11-24 18:00"), ptr(at("2026-11-24 17:00")))
	ticket("d1", "tech", at("2026-11-24 18:00"), ptr(at("2026-11-24 19:00")))
	ticket("d1", "business", at("2026-11-23 18:00"), nil)
	ticket("d1", "business", at("2026-11-25 18:00"), nil)
	ticket("d2", "disclosure", at("2026-11-24 18:00"), ptr(at("2026-11-24 09:00")))

	var plan int64
	require.NoError(t, s.Pool().QueryRow(ctx, `INSERT INTO inspection_plans (name, cron, assignee, items, grace, level, created_by, created_at)
		VALUES ('p', '0 9 * * *', 'u', '{a}', '1 hour', 3, 'u', now()) RETURNING id`).Scan(&plan))
	for _, r := range []struct {
		due   time.Time
		state string
	}{{at("2026-11-24 09:00"), "done"}, {at("2026-11-24 15:00"), "pending"}, {at("2026-11-25 15:00"), "pending"}} {
		exec(`INSERT INTO inspection_runs (plan_id, plan, items, assignees, due_at, state) VALUES ($1, 'p', '{a}', '{u}', $2, $3)`, plan, r.due, r.state)
	}
	var bplan int64
	require.NoError(t, s.Pool().QueryRow(ctx, `INSERT INTO backup_plans (system, daily_at, created_by, created_at)
		VALUES ('sys', '02:00', 'u', now()) RETURNING id`).Scan(&bplan))
	exec(`INSERT INTO backup_checks (plan_id, day, due_at, state) VALUES ($1, '2026-11-23', $2, 'ok'), ($1, '2026-11-24', $3, 'missing'),
		($1, '2026-11-25', $4, 'pending')`, bplan, at("2026-11-23 02:00"), at("2026-11-24 02:00"), at("2026-11-25 23:00"))

	svc := trend.NewService(s.Trends(), &routinetest.Clock{T: at("2026-11-25 09:30")}, loc)
	tr, err := svc.Read(ctx, trend.Units{Codes: []string{"d1"}}, trend.Days14)
	require.NoError(t, err)
	last, prev := 13, 12
	require.Equal(t, 1, tr.Incidents[0][prev])
	require.Equal(t, 1, tr.Incidents[2][prev], "23:59 in Shanghai is still yesterday")
	require.Equal(t, 1, tr.Incidents[2][last])
	require.Equal(t, 0, tr.Incidents[1][prev], "d2 is outside the units")
	require.Equal(t, 0, tr.Incidents[3][0], "the day before the window is not counted")
	mtta, ok := tr.MTTA[prev].Mean()
	require.True(t, ok)
	require.Equal(t, 5*time.Minute, mtta)
	mttr, _ := tr.MTTR[prev].Mean()
	require.Equal(t, time.Hour, mttr)
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, tr.SLA["tech"][prev])
	require.Equal(t, trend.Pct{OK: 0, Total: 1}, tr.SLA["business"][11])
	require.Equal(t, trend.Pct{}, tr.SLA["business"][last])
	require.Equal(t, trend.Pct{}, tr.SLA["disclosure"][prev])
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, tr.Inspections[prev])
	require.Equal(t, trend.Pct{}, tr.Inspections[last])
	require.Equal(t, trend.Pct{OK: 1, Total: 1}, tr.Backups[11])
	require.Equal(t, trend.Pct{OK: 0, Total: 1}, tr.Backups[prev])
	require.Equal(t, trend.Pct{}, tr.Backups[last], "today's backup is not due yet")
	require.Equal(t, 2, tr.Escalations[prev])

	none, err := svc.Read(ctx, trend.Units{}, trend.Days14)
	require.NoError(t, err)
	require.Equal(t, 0, none.Incidents[0][prev], "no units select nothing")
	require.Equal(t, 0, none.Escalations[prev])

	own, err := svc.Read(ctx, trend.Units{Own: "u"}, trend.Days14)
	require.NoError(t, err)
	require.Equal(t, 4, sum(own.Incidents[0])+sum(own.Incidents[1])+sum(own.Incidents[2])+sum(own.Incidents[3]), "u declared every incident, in both districts")
	require.Equal(t, 3, sum(own.Escalations))
	require.Equal(t, trend.Pct{}, own.Backups[11], "backups are nobody's own")
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, own.Inspections[prev], "the runs are assigned to u")
	other, err := svc.Read(ctx, trend.Units{Own: "someone"}, trend.Days14)
	require.NoError(t, err)
	require.Equal(t, 0, sum(other.Incidents[2])+sum(other.Escalations))
	require.Equal(t, trend.Pct{}, other.SLA["tech"][prev])

	city, err := svc.Read(ctx, trend.Units{All: true}, trend.Months12)
	require.NoError(t, err)
	nov := 11
	require.Equal(t, []int{1, 1, 2, 1}, []int{city.Incidents[0][nov], city.Incidents[1][nov], city.Incidents[2][nov], city.Incidents[3][nov]})
	require.Equal(t, 3, city.Escalations[nov])
	require.Equal(t, trend.Pct{OK: 2, Total: 3}, city.SLA["tech"][nov].Add(city.SLA["disclosure"][nov]), "the city counts d2's ticket too")

	weeks, err := svc.Read(ctx, trend.Units{All: true}, trend.Months3)
	require.NoError(t, err)
	require.Equal(t, 5, sum(weeks.Incidents[0])+sum(weeks.Incidents[1])+sum(weeks.Incidents[2])+sum(weeks.Incidents[3]))
	require.Equal(t, trend.Pct{OK: 1, Total: 2}, weeks.Backups[12])
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func TestAuditSearchByActionAndEntity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		for _, e := range [][3]string{{"a", "incident.declare", "incident:1"}, {"a", "incident.ack", "incident:1"},
			{"b", "incident_x.other", "incident:2"}, {"b", "org.user.add", "user:u1"}} {
			if err := core.Record(ctx, tx, at, core.Actor{UserID: e[0], Platform: "webchat"}, e[1], e[2], nil, nil); err != nil {
				return err
			}
		}
		return nil
	}))
	search := func(q org.AuditQuery) []string {
		t.Helper()
		q.Limit = 10
		var out []string
		require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
			es, err := tx.AuditSearch(ctx, q)
			for _, e := range es {
				out = append(out, e.Action+" "+e.Entity)
			}
			return err
		}))
		return out
	}
	require.Equal(t, []string{"incident.ack incident:1", "incident.declare incident:1"}, search(org.AuditQuery{Action: "incident."}),
		"a prefix ends at its dot: incident_x is not under incident.")
	require.Equal(t, []string{"incident.ack incident:1"}, search(org.AuditQuery{Action: "incident.ack"}))
	require.Empty(t, search(org.AuditQuery{Action: "incident"}), "without a dot, one action")
	require.Equal(t, []string{"org.user.add user:u1"}, search(org.AuditQuery{Entity: "user:u1"}))
	require.Equal(t, []string{"incident_x.other incident:2"}, search(org.AuditQuery{Actor: "b", Action: "incident_x."}))
}

func TestAuditVerificationsKeepTheLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	_, ok, err := s.Audit().LastVerification(ctx)
	require.NoError(t, err)
	require.False(t, ok)
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, v := range []audit.Verification{
		{At: at, By: "system", Count: 10, Seq: 10, Signed: true, Took: 40 * time.Millisecond},
		{At: at.Add(time.Hour), By: "admin", Count: 4, Seq: 4, BrokenSeq: 5, Broken: "hash mismatch", Took: time.Second},
	} {
		require.NoError(t, s.Audit().InTx(ctx, func(tx audit.Tx) error { return tx.RecordVerification(ctx, v) }))
	}
	v, ok, err := s.Audit().LastVerification(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "admin", v.By)
	require.Equal(t, int64(5), v.BrokenSeq)
	require.Equal(t, "hash mismatch", v.Broken)
	require.Equal(t, time.Second, v.Took)
	require.True(t, at.Add(time.Hour).Equal(v.At))
}
