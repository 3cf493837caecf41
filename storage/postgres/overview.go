package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"opsbot/core/overview"
)

// overviewStore adapts Store to overview.Store.
type overviewStore struct{ s *Store }

// Overview returns the console overview's store.
func (s *Store) Overview() overview.Store { return overviewStore{s} }

// Read runs fn in one transaction.
func (o overviewStore) Read(ctx context.Context, fn func(overview.Reads) error) error {
	return o.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// JointIncidents returns which of ids have an alert group in joint
// troubleshooting (the non-200 rule).
func (t *Tx) JointIncidents(ctx context.Context, ids []int64) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT incident_id FROM alert_groups WHERE joint AND incident_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: joint incidents: %w", err)
	}
	return collect(rows, func(r pgx.Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, "joint incidents")
}
