package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/overview"
)

// overviewStore adapts Store to overview.Store.
type overviewStore struct{ s *Store }

// Overview returns the console overview's store.
func (s *Store) Overview() overview.Store { return overviewStore{s} }

// Read runs fn as a read (Store.read: no transaction of its own; no writes).
func (o overviewStore) Read(ctx context.Context, fn func(overview.Reads) error) error {
	return o.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

// ActiveIncidents lists the incidents not yet resolved in view, newest
// first: the states are named so the incidents_open index serves it.
func (t *Tx) ActiveIncidents(ctx context.Context, view org.View, limit int) ([]incident.Incident, error) {
	all, units, own := viewArgs(&view)
	rows, err := t.tx.Query(ctx, "SELECT "+incidentColumns+` FROM incidents
		WHERE state IN ('declared', 'acknowledged', 'mitigated')
		AND ($1 OR ($3 = '' AND unit = ANY($2::text[])) OR ($3 <> '' AND (declared_by = $3 OR owner = $3)))
		ORDER BY id DESC LIMIT $4`, all, units, own, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: active incidents: %w", err)
	}
	return collect(rows, scanIncident, "active incidents")
}

// JointIncidents returns which of ids have an alert group in joint
// troubleshooting (the non-200 rule).
func (t *Tx) JointIncidents(ctx context.Context, ids []int64) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT incident_id FROM alert_groups WHERE joint AND incident_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: joint incidents: %w", err)
	}
	return collect(rows, scanID, "joint incidents")
}

// scanID scans a row of one bigint.
func scanID(r pgx.Row) (int64, error) {
	var id int64
	return id, r.Scan(&id)
}
