package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/monthly"
)

type monthlyStore struct{ s *Store }

// Monthly returns the store of pushed reports and quarterly checks.
func (s *Store) Monthly() monthly.Store { return monthlyStore{s} }

// InTx runs fn in one transaction.
func (k monthlyStore) InTx(ctx context.Context, fn func(monthly.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// MarkReportSent records report kind of period for user; false when it was already.
func (t *Tx) MarkReportSent(ctx context.Context, kind, period, user string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO report_sent (kind, period, user_id, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		kind, period, user, at)
	if err != nil {
		return false, wrap(err, "mark report sent")
	}
	return tag.RowsAffected() == 1, nil
}

// ReportsSent lists the users report kind of period was sent to.
func (t *Tx) ReportsSent(ctx context.Context, kind, period string) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT user_id FROM report_sent WHERE kind = $1 AND period = $2 ORDER BY user_id`, kind, period)
	if err != nil {
		return nil, wrap(err, "reports sent")
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Outages lists the non-200 joint troubleshooting incidents down at some
// time in [from, to): from the incident's creation to its resolution.
func (t *Tx) Outages(ctx context.Context, from, to time.Time) ([]monthly.Outage, error) {
	rows, err := t.tx.Query(ctx, `SELECT i.id, g.app, i.unit, i.created_at, i.resolved_at
		FROM alert_groups g JOIN incidents i ON i.id = g.incident_id
		WHERE g.joint AND i.created_at < $2 AND (i.resolved_at IS NULL OR i.resolved_at >= $1) ORDER BY i.id`, from, to)
	if err != nil {
		return nil, wrap(err, "outages")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (monthly.Outage, error) {
		var o monthly.Outage
		err := r.Scan(&o.Incident, &o.System, &o.Unit, &o.Start, &o.End)
		return o, err
	})
}

const checkActionColumns = `quarter, n, plan, kind, item, count, owner, due_at, state, done_by, done_at`

func scanCheckAction(r pgx.Row) (monthly.Action, error) {
	var a monthly.Action
	err := r.Scan(&a.Quarter, &a.N, &a.Plan, &a.Kind, &a.Item, &a.Count, &a.Owner, &a.Due, &a.State, &a.DoneBy, &a.DoneAt)
	return a, err
}

// InsertCheckAction stores a new corrective action.
func (t *Tx) InsertCheckAction(ctx context.Context, a monthly.Action) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO check_actions (`+checkActionColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		a.Quarter, a.N, a.Plan, a.Kind, a.Item, a.Count, a.Owner, a.Due, a.State, a.DoneBy, a.DoneAt)
	return wrap(err, "insert check action")
}

// CheckAction returns an action, row-locked.
func (t *Tx) CheckAction(ctx context.Context, quarter string, n int) (monthly.Action, error) {
	a, err := scanCheckAction(t.tx.QueryRow(ctx, `SELECT `+checkActionColumns+` FROM check_actions WHERE quarter = $1 AND n = $2 FOR UPDATE`, quarter, n))
	if none, err := missing(err, "check action"); none {
		return a, core.NotFound("check_action_not_found", "quarter", quarter, "n", fmt.Sprint(n))
	} else if err != nil {
		return a, err
	}
	return a, nil
}

// CheckActions lists a quarter's actions by number.
func (t *Tx) CheckActions(ctx context.Context, quarter string) ([]monthly.Action, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+checkActionColumns+` FROM check_actions WHERE quarter = $1 ORDER BY n`, quarter)
	if err != nil {
		return nil, wrap(err, "check actions")
	}
	return collect(rows, scanCheckAction, "check actions")
}

// UpdateCheckAction saves an action's state.
func (t *Tx) UpdateCheckAction(ctx context.Context, a monthly.Action) error {
	_, err := t.tx.Exec(ctx, `UPDATE check_actions SET owner = $3, due_at = $4, state = $5, done_by = $6, done_at = $7 WHERE quarter = $1 AND n = $2`,
		a.Quarter, a.N, a.Owner, a.Due, a.State, a.DoneBy, a.DoneAt)
	return wrap(err, "update check action")
}
