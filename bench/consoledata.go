package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// yearSize is how much a generated year holds (issue 15's benchmark).
type yearSize struct {
	incidents, tickets, backupPlans, inspectionPlans, requests int
}

// demoYear is the demo city's year: 50,000 incidents, 20,000 tickets,
// 7,300 backup reports (20 plans × 365 days), 12,045 inspection runs (33
// daily plans × 365) and 5,000 requests.
var demoYear = yearSize{incidents: 50000, tickets: 20000, backupPlans: 20, inspectionPlans: 33, requests: 5000}

// The demo org (core/org/demo.go): units work happens in, and who does it.
var (
	yearUnits     = []string{"dongcheng", "xicheng", "dc-edu", "dc-health", "xc-market", "xc-civil", "dc-edu-office"}
	yearOperators = []string{"sunli", "zhoujie"}
	yearPeople    = []string{"zhengmin", "huangyu", "maxin", "zhangwei", "liuyang", "chenjing", "zhaolei", "wuhao"}
	yearSystems   = []string{"sjsj", "portal", "gov-site", "oa", "mail", "dns", "db-cluster", "k8s"}
)

// generated counts the rows a generation inserted.
type generated struct {
	incidents, events, tickets, requests, backupReports, backupChecks, inspectionRuns int64
	took                                                                              time.Duration
}

// generateYear fills the database behind conn with a year of work ending
// at now, with COPY (a few seconds for everything). It expects the demo
// org (opsbot seeds it at start) and adds to whatever is there.
func generateYear(ctx context.Context, conn *pgx.Conn, now time.Time, size yearSize) (generated, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(2026, 15))
	var g generated
	from := now.AddDate(-1, 0, 0)
	span := now.Sub(from)
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	tx, err := conn.Begin(ctx)
	if err != nil {
		return g, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	nextID := func(table string) (int64, error) {
		var id int64
		err := tx.QueryRow(ctx, "SELECT coalesce(max(id), 0) + 1 FROM "+table).Scan(&id)
		return id, err
	}

	// Incidents: levels weighted towards IV; 10 % escalated; those of the
	// last two days still open.
	first, err := nextID("incidents")
	if err != nil {
		return g, err
	}
	var incRows, evRows [][]any
	for n := 0; n < size.incidents; n++ {
		id := first + int64(n)
		created := from.Add(time.Duration(rng.Int64N(int64(span))))
		level := []int{1, 2, 2, 3, 3, 3, 4, 4, 4, 4}[rng.IntN(10)]
		unit, owner, by := pick(yearUnits), pick(yearOperators), pick(yearPeople)
		state := "closed"
		ack := created.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
		res := ack.Add(time.Duration(10+rng.IntN(600)) * time.Minute)
		var acked, resolved, closed any = ack, res, res.Add(time.Hour)
		if now.Sub(created) < 48*time.Hour {
			state, resolved, closed = "acknowledged", nil, nil
			if rng.IntN(3) == 0 {
				state, acked = "declared", nil
			}
		}
		incRows = append(incRows, []any{id, fmt.Sprintf("%s 服务异常 #%d", pick(yearSystems), id), level, state, pick(yearSystems), unit,
			owner, by, created, acked, resolved, closed, created, "chat"})
		evRows = append(evRows, []any{id, created, by, "declare", ""})
		if acked != nil {
			evRows = append(evRows, []any{id, ack, owner, "ack", ""})
		}
		if rng.IntN(10) == 0 {
			evRows = append(evRows, []any{id, created.Add(15 * time.Minute), "system", "escalate", "liqiang"})
		}
		if resolved != nil {
			evRows = append(evRows, []any{id, res, owner, "resolve", "已恢复"})
		}
	}
	if g.incidents, err = tx.CopyFrom(ctx, pgx.Identifier{"incidents"}, []string{"id", "title", "level", "state", "system", "unit",
		"owner", "declared_by", "created_at", "acked_at", "resolved_at", "closed_at", "last_update_at", "source"}, pgx.CopyFromRows(incRows)); err != nil {
		return g, fmt.Errorf("incidents: %w", err)
	}
	if g.events, err = tx.CopyFrom(ctx, pgx.Identifier{"incident_events"}, []string{"incident_id", "at", "actor", "kind", "body"},
		pgx.CopyFromRows(evRows)); err != nil {
		return g, fmt.Errorf("incident events: %w", err)
	}

	// Tickets: 90 % answered, most in time; those of the last week open.
	var tkRows [][]any
	kinds := []string{"tech", "business", "disclosure"}
	for n := 0; n < size.tickets; n++ {
		created := from.Add(time.Duration(rng.Int64N(int64(span))))
		due := created.Add(time.Duration(8+rng.IntN(40)) * time.Hour)
		state := "closed"
		var answered, closed any
		if now.Sub(created) < 7*24*time.Hour {
			state = "open"
		} else if rng.IntN(10) > 0 {
			a := created.Add(time.Duration(1+rng.IntN(50)) * time.Hour)
			answered, closed = a, a.Add(24*time.Hour)
		} else {
			closed = due.Add(72 * time.Hour)
		}
		overdue := state == "open" && due.Before(now)
		tkRows = append(tkRows, []any{pick(kinds), fmt.Sprintf("咨询 #%d", n+1), pick(yearPeople), "sjsj", pick(yearUnits),
			[]string{pick(yearOperators)}, state, created, due, answered, closed, overdue, created})
	}
	if g.tickets, err = tx.CopyFrom(ctx, pgx.Identifier{"tickets"}, []string{"kind", "title", "asker", "app", "unit", "assignees", "state",
		"created_at", "due_at", "answered_at", "closed_at", "overdue", "clock_start"}, pgx.CopyFromRows(tkRows)); err != nil {
		return g, fmt.Errorf("tickets: %w", err)
	}

	// Requests: permission requests, most decided; the last three days pending.
	var rqRows [][]any
	for n := 0; n < size.requests; n++ {
		created := from.Add(time.Duration(rng.Int64N(int64(span))))
		state, step := "done", 2
		var closed any = created.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		if now.Sub(created) < 72*time.Hour {
			state, step, closed = "pending", 1, nil
		} else if rng.IntN(8) == 0 {
			state = "rejected"
		}
		rqRows = append(rqRows, []any{"permission", "permission/unit", state, step, pick(yearPeople), fmt.Sprintf("申请权限 #%d", n+1),
			"sjsj", pick(yearUnits), created, created, created, closed})
	}
	if g.requests, err = tx.CopyFrom(ctx, pgx.Identifier{"requests"}, []string{"kind", "route", "state", "step", "requester", "title",
		"app", "unit", "created_at", "updated_at", "step_since", "closed_at"}, pgx.CopyFromRows(rqRows)); err != nil {
		return g, fmt.Errorf("requests: %w", err)
	}

	// Backups: a plan per system, a report and a check a day; 4 % failed.
	day0 := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, now.Location()).AddDate(0, 0, 1)
	for p := 0; p < size.backupPlans; p++ {
		var plan int64
		if err := tx.QueryRow(ctx, `INSERT INTO backup_plans (system, daily_at, full_day, active, created_by, created_at)
			VALUES ($1, '02:00', 1, true, 'sunli', $2) RETURNING id`, fmt.Sprintf("bench-sys-%02d", p), from).Scan(&plan); err != nil {
			return g, fmt.Errorf("backup plan: %w", err)
		}
		firstReport, err := nextID("backup_reports")
		if err != nil {
			return g, err
		}
		var reps, checks [][]any
		for d := 0; d < 365; d++ {
			day := day0.AddDate(0, 0, d)
			due := day.Add(6 * time.Hour)
			if !due.Before(now) {
				break
			}
			id := firstReport + int64(len(reps))
			ok, state := true, "ok"
			if rng.IntN(100) < 4 {
				ok, state = false, "failed"
			}
			kind := "incremental"
			if day.Day() == 1 {
				kind = "full"
			}
			reps = append(reps, []any{id, plan, day, day.Add(2*time.Hour + 30*time.Minute), kind, ok, "", "sunli", "chat"})
			checks = append(checks, []any{plan, day, due, state, id})
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"backup_reports"}, []string{"id", "plan_id", "day", "at", "kind", "ok", "note", "by_user", "source"},
			pgx.CopyFromRows(reps))
		if err != nil {
			return g, fmt.Errorf("backup reports: %w", err)
		}
		g.backupReports += n
		if n, err = tx.CopyFrom(ctx, pgx.Identifier{"backup_checks"}, []string{"plan_id", "day", "due_at", "state", "report_id"},
			pgx.CopyFromRows(checks)); err != nil {
			return g, fmt.Errorf("backup checks: %w", err)
		}
		g.backupChecks += n
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('backup_reports', 'id'), (SELECT max(id) FROM backup_reports))`); err != nil {
		return g, err
	}

	// Inspections: daily plans, a run a day each; 5 % missed.
	for p := 0; p < size.inspectionPlans; p++ {
		var plan int64
		name := fmt.Sprintf("bench-inspect-%02d", p)
		if err := tx.QueryRow(ctx, `INSERT INTO inspection_plans (name, cron, assignee, items, grace, level, active, created_by, created_at)
			VALUES ($1, '0 9 * * *', 'sunli', '{cpu,disk,certs}', '2 hours', 3, true, 'sunli', $2) RETURNING id`, name, from).Scan(&plan); err != nil {
			return g, fmt.Errorf("inspection plan: %w", err)
		}
		var runs [][]any
		for d := 0; d < 365; d++ {
			due := day0.AddDate(0, 0, d).Add(11 * time.Hour)
			state, missed := "done", false
			var done any = due.Add(-time.Hour)
			if !due.Before(now) {
				state, done = "pending", nil
			} else if rng.IntN(20) == 0 {
				state, missed, done = "pending", true, nil
			}
			runs = append(runs, []any{plan, name, []string{"cpu", "disk", "certs"}, []string{pick(yearOperators)}, due, state, missed, done})
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"inspection_runs"}, []string{"plan_id", "plan", "items", "assignees", "due_at", "state", "missed", "done_at"},
			pgx.CopyFromRows(runs))
		if err != nil {
			return g, fmt.Errorf("inspection runs: %w", err)
		}
		g.inspectionRuns += n
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT max(id) FROM incidents))`); err != nil {
		return g, err
	}
	if err := tx.Commit(ctx); err != nil {
		return g, err
	}
	_, _ = conn.Exec(ctx, "ANALYZE")
	g.took = time.Since(start)
	return g, nil
}
