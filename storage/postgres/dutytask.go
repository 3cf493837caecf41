package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"opsbot/core/dutytask"
)

type dutyTaskStore struct{ s *Store }

// DutyTasks returns the recurring-duty store.
func (s *Store) DutyTasks() dutytask.Store { return dutyTaskStore{s} }

// InTx runs fn in one transaction.
func (k dutyTaskStore) InTx(ctx context.Context, fn func(dutytask.Tx) error) error {
	return k.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Exclusive runs fn under a named lock shared by every replica.
func (k dutyTaskStore) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return k.s.Exclusive(ctx, name, fn)
}

const dutyTaskColumns = "id, name, every, owner, due_rule, next_due, coalesce(seed_key, ''), last_done, last_by, last_note, created_by, created_at"

func scanDutyTask(r pgx.Row) (dutytask.Task, error) {
	var t dutytask.Task
	err := r.Scan(&t.ID, &t.Name, &t.Every, &t.Owner, &t.DueRule, &t.NextDue, &t.SeedKey, &t.LastDone, &t.LastBy, &t.LastNote, &t.CreatedBy, &t.CreatedAt)
	return t, err
}

// InsertDutyTask inserts a duty and sets its id.
func (t *Tx) InsertDutyTask(ctx context.Context, d *dutytask.Task) error {
	var seed *string
	if d.SeedKey != "" {
		seed = &d.SeedKey
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO duty_tasks (name, every, owner, due_rule, next_due, seed_key, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, d.Name, d.Every, d.Owner, d.DueRule, d.NextDue, seed, d.CreatedBy, d.CreatedAt).Scan(&d.ID)
	return wrap(err, "insert duty task")
}

// DutyTask returns a duty, locked when lock is set.
func (t *Tx) DutyTask(ctx context.Context, id int64, lock bool) (dutytask.Task, error) {
	d, err := scanDutyTask(t.tx.QueryRow(ctx, lockable("SELECT "+dutyTaskColumns+" FROM duty_tasks WHERE id = $1", lock), id))
	return d, notFound(err, "duty task")
}

// DutyTasks lists the duties by next due date.
func (t *Tx) DutyTasks(ctx context.Context) ([]dutytask.Task, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+dutyTaskColumns+" FROM duty_tasks ORDER BY next_due, id")
	if err != nil {
		return nil, wrap(err, "duty tasks")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dutytask.Task, error) { return scanDutyTask(r) })
	return out, wrap(err, "duty tasks")
}

// UpdateDutyTask saves a duty's next due date and last completion.
func (t *Tx) UpdateDutyTask(ctx context.Context, d dutytask.Task) error {
	_, err := t.tx.Exec(ctx, `UPDATE duty_tasks SET next_due = $2, last_done = $3, last_by = $4, last_note = $5 WHERE id = $1`,
		d.ID, d.NextDue, d.LastDone, d.LastBy, d.LastNote)
	return wrap(err, "update duty task")
}

// DutyTaskSeeded reports whether a duty with the seed key exists.
func (t *Tx) DutyTaskSeeded(ctx context.Context, key string) (bool, error) {
	var ok bool
	err := t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM duty_tasks WHERE seed_key = $1)", key).Scan(&ok)
	return ok, wrap(err, "duty task seeded")
}
