package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/approval"
	"opsbot/core/org"
)

// approvalStore adapts Store to approval.Store.
type approvalStore struct{ s *Store }

// Approvals returns the approval store.
func (s *Store) Approvals() approval.Store { return approvalStore{s} }

// InTx runs fn in one transaction.
func (a approvalStore) InTx(ctx context.Context, fn func(approval.Ports) error) error {
	return a.s.WithTx(ctx, func(tx *Tx) error {
		return fn(approval.Ports{Tx: tx, Reader: tx, Directory: tx, Register: tx})
	})
}

const requestColumns = "id, kind, route, state, step, requester, title, app, unit, payload, created_at, updated_at, step_since, closed_at"

func scanRequest(row pgx.Row) (approval.Request, error) {
	var r approval.Request
	var payload []byte
	err := row.Scan(&r.ID, &r.Kind, &r.Route, &r.State, &r.Step, &r.Requester, &r.Title, &r.App, &r.Unit, &payload,
		&r.CreatedAt, &r.UpdatedAt, &r.StepSince, &r.ClosedAt)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(payload, &r.Payload)
}

func payloadJSON(p map[string]string) []byte {
	if p == nil {
		return []byte("{}")
	}
	b, _ := json.Marshal(p)
	return b
}

// InsertRequest inserts a request and sets its id.
func (t *Tx) InsertRequest(ctx context.Context, r *approval.Request) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO requests (kind, route, state, step, requester, title, app, unit, payload, created_at, updated_at, step_since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		r.Kind, r.Route, r.State, r.Step, r.Requester, r.Title, r.App, r.Unit, payloadJSON(r.Payload), r.CreatedAt, r.UpdatedAt, r.StepSince).Scan(&r.ID)
	return wrap(err, "insert request")
}

// Request returns a request, locking its row when lock is set.
func (t *Tx) Request(ctx context.Context, id int64, lock bool) (approval.Request, error) {
	q := lockable("SELECT "+requestColumns+" FROM requests WHERE id = $1", lock)
	r, err := scanRequest(t.tx.QueryRow(ctx, q, id))
	return r, notFound(err, "request")
}

// UpdateRequest saves a request's state.
func (t *Tx) UpdateRequest(ctx context.Context, r approval.Request) error {
	_, err := t.tx.Exec(ctx, `UPDATE requests SET state = $2, step = $3, payload = $4, updated_at = $5, step_since = $6, closed_at = $7 WHERE id = $1`,
		r.ID, r.State, r.Step, payloadJSON(r.Payload), r.UpdatedAt, r.StepSince, r.ClosedAt)
	return wrap(err, "update request")
}

// Requests lists requests, newest first.
func (t *Tx) Requests(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := t.tx.Query(ctx, "SELECT "+requestColumns+` FROM requests
		WHERE ($1 = '' OR requester = $1) AND (NOT $2 OR state = 'pending') AND ($4 = '' OR kind = $4)
		ORDER BY id DESC LIMIT $3`, f.Requester, f.Pending, f.Limit, string(f.Kind))
	if err != nil {
		return nil, fmt.Errorf("postgres: requests: %w", err)
	}
	return collect(rows, scanRequest, "requests")
}

// Route returns a route's steps in order.
func (t *Tx) Route(ctx context.Context, route string) ([]approval.Step, error) {
	rows, err := t.tx.Query(ctx, `SELECT route, seq, name, roles, fallback_roles, scope, count, verbs, back_to
		FROM approval_routes WHERE route = $1 ORDER BY seq`, route)
	if err != nil {
		return nil, fmt.Errorf("postgres: route: %w", err)
	}
	return collect(rows, func(r pgx.Row) (approval.Step, error) {
		var st approval.Step
		var roles, fallback []string
		err := r.Scan(&st.Route, &st.Seq, &st.Name, &roles, &fallback, &st.Scope, &st.Count, &st.Verbs, &st.BackTo)
		for _, x := range roles {
			st.Roles = append(st.Roles, org.Role(x))
		}
		for _, x := range fallback {
			st.FallbackRoles = append(st.FallbackRoles, org.Role(x))
		}
		return st, err
	}, "route")
}

// InsertDecision records a decision.
func (t *Tx) InsertDecision(ctx context.Context, d approval.Decision) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO request_decisions (request_id, step, actor, verb, note, window_set, platform, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, d.RequestID, d.Step, d.Actor, d.Verb, d.Note, d.Window, d.Platform, d.At)
	return wrap(err, "insert decision")
}

// Decisions returns a request's decisions in order.
func (t *Tx) Decisions(ctx context.Context, id int64) ([]approval.Decision, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, request_id, step, actor, verb, note, window_set, platform, at FROM request_decisions
		WHERE request_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: decisions: %w", err)
	}
	return collect(rows, scanDecision, "decisions")
}

func scanDecision(r pgx.Row) (approval.Decision, error) {
	var d approval.Decision
	err := r.Scan(&d.ID, &d.RequestID, &d.Step, &d.Actor, &d.Verb, &d.Note, &d.Window, &d.Platform, &d.At)
	return d, err
}

// DecisionsOf returns the decisions of each of the requests, in order.
func (t *Tx) DecisionsOf(ctx context.Context, ids []int64) (map[int64][]approval.Decision, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, request_id, step, actor, verb, note, window_set, platform, at FROM request_decisions
		WHERE request_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: decisions of: %w", err)
	}
	ds, err := collect(rows, scanDecision, "decisions of")
	out := map[int64][]approval.Decision{}
	for _, d := range ds {
		out[d.RequestID] = append(out[d.RequestID], d)
	}
	return out, err
}

// Apps lists every app.
func (t *Tx) Apps(ctx context.Context) ([]org.App, error) {
	rows, err := t.tx.Query(ctx, `SELECT code, name, owner, scope, level, status, version FROM apps ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("postgres: apps: %w", err)
	}
	return collect(rows, func(r pgx.Row) (org.App, error) {
		var a org.App
		err := r.Scan(&a.Code, &a.Name, &a.Owner, &a.Scope, &a.Level, &a.Status, &a.Version)
		return a, err
	}, "apps")
}

// UpdateApp saves an app's name, status and version.
func (t *Tx) UpdateApp(ctx context.Context, a org.App) error {
	_, err := t.tx.Exec(ctx, `UPDATE apps SET name = $2, status = $3, version = $4 WHERE code = $1`, a.Code, a.Name, a.Status, a.Version)
	return wrap(err, "update app")
}

// UpsertAppGrant records a permission on an app.
func (t *Tx) UpsertAppGrant(ctx context.Context, g approval.AppGrant) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO app_grants (app, grantee, kind, request_id, granted_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (app, grantee, kind) DO UPDATE SET request_id = excluded.request_id, granted_at = excluded.granted_at`,
		g.App, g.Grantee, g.Kind, g.RequestID, g.GrantedAt)
	return wrap(err, "upsert app grant")
}

func scanAppGrant(r pgx.Row) (approval.AppGrant, error) {
	var g approval.AppGrant
	var rid *int64
	err := r.Scan(&g.App, &g.Grantee, &g.Kind, &rid, &g.GrantedAt)
	if rid != nil {
		g.RequestID = *rid
	}
	return g, err
}

// DeleteAppGrants removes and returns every grant on an app.
func (t *Tx) DeleteAppGrants(ctx context.Context, app string) ([]approval.AppGrant, error) {
	rows, err := t.tx.Query(ctx, `DELETE FROM app_grants WHERE app = $1 RETURNING app, grantee, kind, request_id, granted_at`, app)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete app grants: %w", err)
	}
	return collect(rows, scanAppGrant, "delete app grants")
}

// DeleteAppGrant removes one grant and returns it; false when there was none.
func (t *Tx) DeleteAppGrant(ctx context.Context, g approval.AppGrant) (approval.AppGrant, bool, error) {
	got, err := scanAppGrant(t.tx.QueryRow(ctx, `DELETE FROM app_grants WHERE app = $1 AND grantee = $2 AND kind = $3
		RETURNING app, grantee, kind, request_id, granted_at`, g.App, g.Grantee, g.Kind))
	if errors.Is(err, pgx.ErrNoRows) {
		return approval.AppGrant{}, false, nil
	}
	if err != nil {
		return approval.AppGrant{}, false, fmt.Errorf("postgres: delete app grant: %w", err)
	}
	return got, true, nil
}

// AppGrants lists an app's grants.
func (t *Tx) AppGrants(ctx context.Context, app string) ([]approval.AppGrant, error) {
	rows, err := t.tx.Query(ctx, `SELECT app, grantee, kind, request_id, granted_at FROM app_grants WHERE app = $1 ORDER BY grantee, kind`, app)
	if err != nil {
		return nil, fmt.Errorf("postgres: app grants: %w", err)
	}
	return collect(rows, scanAppGrant, "app grants")
}

// RequestsBetween lists the requests submitted in [from, to), by id.
func (t *Tx) RequestsBetween(ctx context.Context, from, to time.Time) ([]approval.Request, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+requestColumns+` FROM requests WHERE created_at >= $1 AND created_at < $2 ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: requests between: %w", err)
	}
	return collect(rows, scanRequest, "requests between")
}
