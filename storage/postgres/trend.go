package postgres

import (
	"context"
	"fmt"
	"time"

	"opsbot/core/trend"
)

// The trend series are read-only aggregates straight on the pool: one
// query each, the buckets found by width_bucket over the window's bucket
// starts (computed in Go, in the calendar's zone), so Postgres and core
// agree on where a day, a week or a month begins.

type trendStore struct{ s *Store }

// Trends returns the trend series store.
func (s *Store) Trends() trend.Store { return trendStore{s} }

// trendArgs are the window's bounds, its bucket starts, the unit codes
// (NULL for every unit, or for one person's own items), now and the
// person ("" for units), as $1..$6 of every trend query.
func trendArgs(w trend.Window, u trend.Units) (starts []time.Time, args []any) {
	starts = w.Starts()
	var codes []string
	if !u.All && u.Own == "" {
		codes = append([]string{}, u.Codes...) // non-nil: no units selects nothing
	}
	return starts, []any{w.From, w.To, starts, codes, w.Now, u.Own}
}

// incidentFilter and ticketFilter keep the rows of the units, or the person's own.
const (
	incidentFilter = `($4::text[] IS NULL OR i.unit = ANY($4::text[])) AND ($6 = '' OR i.declared_by = $6 OR i.owner = $6)`
	ticketFilter   = `($4::text[] IS NULL OR unit = ANY($4::text[])) AND ($6 = '' OR asker = $6 OR $6 = ANY(assignees))`
)

// trendQuery runs sql, whose first column is width_bucket's 1-based
// index, scans the other columns into dest and calls row with the
// bucket's key for every row in the window.
func (k trendStore) trendQuery(ctx context.Context, what string, w trend.Window, starts []time.Time, args []any, sql string,
	row func(key string), dest ...any) error {
	rows, err := k.s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("postgres: trend %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		if err := rows.Scan(append([]any{&i}, dest...)...); err != nil {
			return fmt.Errorf("postgres: trend %s: %w", what, err)
		}
		if i >= 1 && i <= len(starts) {
			row(w.Key(starts[i-1]))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: trend %s: %w", what, err)
	}
	return nil
}

// IncidentLevels counts incidents declared per bucket and level.
func (k trendStore) IncidentLevels(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Count, error) {
	starts, args := trendArgs(w, u)
	var out []trend.Count
	var level, n int
	err := k.trendQuery(ctx, "incident levels", w, starts, args, `
		SELECT width_bucket(created_at, $3::timestamptz[]), level, count(*) FROM incidents i
		WHERE created_at >= $1 AND created_at < $2 AND `+incidentFilter+` AND $5::timestamptz IS NOT NULL
		GROUP BY 1, 2`,
		func(key string) { out = append(out, trend.Count{Bucket: key, Key: fmt.Sprint(level), N: n}) }, &level, &n)
	return out, err
}

// IncidentTimes sums declared→acknowledged and declared→resolved per bucket of declaration.
func (k trendStore) IncidentTimes(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Mean, error) {
	starts, args := trendArgs(w, u)
	var out []trend.Mean
	var ackSec, resSec float64
	var ackN, resN int
	err := k.trendQuery(ctx, "incident times", w, starts, args, `
		SELECT width_bucket(created_at, $3::timestamptz[]),
			coalesce(sum(extract(epoch FROM acked_at - created_at)) FILTER (WHERE acked_at IS NOT NULL), 0), count(acked_at),
			coalesce(sum(extract(epoch FROM resolved_at - created_at)) FILTER (WHERE resolved_at IS NOT NULL), 0), count(resolved_at)
		FROM incidents i
		WHERE created_at >= $1 AND created_at < $2 AND `+incidentFilter+` AND $5::timestamptz IS NOT NULL
		GROUP BY 1`,
		func(key string) {
			out = append(out, trend.Mean{Bucket: key, Key: "ack", Sum: seconds(ackSec), N: ackN},
				trend.Mean{Bucket: key, Key: "resolve", Sum: seconds(resSec), N: resN})
		}, &ackSec, &ackN, &resSec, &resN)
	return out, err
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// TicketSLA counts tickets answered per bucket (or fallen due unanswered
// before now, at their due time) and those answered in time, per kind.
func (k trendStore) TicketSLA(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	starts, args := trendArgs(w, u)
	var out []trend.Ratio
	var kind string
	var ok, total int
	err := k.trendQuery(ctx, "ticket sla", w, starts, args, `
		SELECT width_bucket(at, $3::timestamptz[]), kind, count(*) FILTER (WHERE on_time), count(*) FROM (
			SELECT answered_at AS at, kind, answered_at <= due_at AS on_time FROM tickets
			WHERE answered_at >= $1 AND answered_at < $2 AND `+ticketFilter+`
			UNION ALL
			SELECT due_at, kind, false FROM tickets
			WHERE answered_at IS NULL AND due_at >= $1 AND due_at < $2 AND due_at < $5 AND `+ticketFilter+`
		) t GROUP BY 1, 2`,
		func(key string) { out = append(out, trend.Ratio{Bucket: key, Key: kind, OK: ok, Total: total}) }, &kind, &ok, &total)
	return out, err
}

// Inspections counts inspection runs due per bucket before now and those done.
func (k trendStore) Inspections(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	starts, args := trendArgs(w, trend.Units{All: true, Own: u.Own})
	var out []trend.Ratio
	var ok, total int
	err := k.trendQuery(ctx, "inspections", w, starts, args, `
		SELECT width_bucket(due_at, $3::timestamptz[]), count(*) FILTER (WHERE state = 'done'), count(*) FROM inspection_runs
		WHERE due_at >= $1 AND due_at < $2 AND due_at < $5 AND $4::text[] IS NULL AND ($6 = '' OR $6 = ANY(assignees))
		GROUP BY 1`,
		func(key string) { out = append(out, trend.Ratio{Bucket: key, OK: ok, Total: total}) }, &ok, &total)
	return out, err
}

// Backups counts the daily backups expected per bucket (due before now)
// and those reported good. A day belongs to the bucket its date is in.
func (k trendStore) Backups(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Ratio, error) {
	if u.Own != "" {
		return nil, nil // nobody's own
	}
	starts, args := trendArgs(w, trend.Units{All: true})
	days := make([]string, len(starts))
	for i, s := range starts {
		days[i] = w.Key(s)
	}
	args[2] = days
	args[0], args[1] = w.Key(w.From), w.Key(w.To)
	var out []trend.Ratio
	var ok, total int
	err := k.trendQuery(ctx, "backups", w, starts, args, `
		SELECT width_bucket(day, $3::date[]), count(*) FILTER (WHERE state = 'ok'), count(*) FROM backup_checks
		WHERE day >= $1::date AND day < $2::date AND due_at < $5 AND $4::text[] IS NULL AND $6 = ''
		GROUP BY 1`,
		func(key string) { out = append(out, trend.Ratio{Bucket: key, OK: ok, Total: total}) }, &ok, &total)
	return out, err
}

// Escalations counts incident escalations per bucket.
func (k trendStore) Escalations(ctx context.Context, w trend.Window, u trend.Units) ([]trend.Count, error) {
	starts, args := trendArgs(w, u)
	var out []trend.Count
	var n int
	err := k.trendQuery(ctx, "escalations", w, starts, args, `
		SELECT width_bucket(e.at, $3::timestamptz[]), count(*) FROM incident_events e JOIN incidents i ON i.id = e.incident_id
		WHERE e.kind = 'escalate' AND e.at >= $1 AND e.at < $2 AND `+incidentFilter+` AND $5::timestamptz IS NOT NULL
		GROUP BY 1`,
		func(key string) { out = append(out, trend.Count{Bucket: key, N: n}) }, &n)
	return out, err
}
