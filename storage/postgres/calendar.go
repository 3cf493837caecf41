package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/calendar"
)

// calendarStore adapts Store to calendar.Store.
type calendarStore struct{ s *Store }

// Calendar returns the calendar overrides store.
func (s *Store) Calendar() calendar.Store { return calendarStore{s} }

// InTx runs fn in one transaction.
func (c calendarStore) InTx(ctx context.Context, fn func(calendar.Tx) error) error {
	return c.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// UpsertDayOverride stores an override of one day.
func (t *Tx) UpsertDayOverride(ctx context.Context, o calendar.Override) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO calendar_overrides (day, off, name, set_by, set_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (day) DO UPDATE SET off = excluded.off, name = excluded.name, set_by = excluded.set_by, set_at = excluded.set_at`,
		o.Date, o.Off, o.Name, o.SetBy, o.SetAt)
	return wrap(err, "upsert calendar override")
}

// DayOverrides lists every calendar override.
func (t *Tx) DayOverrides(ctx context.Context) ([]calendar.Override, error) {
	rows, err := t.tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), off, name, set_by, set_at FROM calendar_overrides ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("postgres: calendar overrides: %w", err)
	}
	return collect(rows, func(r pgx.Row) (calendar.Override, error) {
		var o calendar.Override
		err := r.Scan(&o.Date, &o.Off, &o.Name, &o.SetBy, &o.SetAt)
		return o, err
	}, "calendar overrides")
}

// MarkYearLoaded records that an admin loaded a year's official schedule.
func (t *Tx) MarkYearLoaded(ctx context.Context, year int, by string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO calendar_years (year, loaded_by, loaded_at) VALUES ($1, $2, $3)
		ON CONFLICT (year) DO UPDATE SET loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at`, year, by, at)
	return wrap(err, "mark calendar year")
}

// LoadedYears lists the years whose official schedule an admin loaded.
func (t *Tx) LoadedYears(ctx context.Context) ([]int, error) {
	rows, err := t.tx.Query(ctx, `SELECT year FROM calendar_years ORDER BY year`)
	if err != nil {
		return nil, fmt.Errorf("postgres: calendar years: %w", err)
	}
	return collect(rows, func(r pgx.Row) (int, error) {
		var y int
		err := r.Scan(&y)
		return y, err
	}, "calendar years")
}
