package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/access"
)

// sessionStore adapts Store to access.SessionStore.
type sessionStore struct{ s *Store }

// Sessions returns the sign-in session store.
func (s *Store) Sessions() access.SessionStore { return sessionStore{s} }

var _ access.SessionTx = (*Tx)(nil)

// InTx runs fn in one transaction.
func (c sessionStore) InTx(ctx context.Context, fn func(access.SessionTx) error) error {
	return c.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// sessionRow is a web_sessions row; ended_at is NULL while live.
type sessionRow struct {
	access.Session
	ended *time.Time
}

const sessionColumns = "id, hash, user_id, via, csrf, address, created_at, last_seen, expires_at, ended_at"

func scanSession(row pgx.Row) (sessionRow, error) {
	var r sessionRow
	s := &r.Session
	err := row.Scan(&s.ID, &s.Hash, &s.UserID, &s.Via, &s.CSRF, &s.Address, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &r.ended)
	if r.ended != nil {
		s.EndedAt = *r.ended
	}
	return r, err
}

// InsertSession stores a new session.
func (t *Tx) InsertSession(ctx context.Context, s access.Session) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO web_sessions (id, hash, user_id, via, csrf, address, created_at, last_seen, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.ID, s.Hash, s.UserID, s.Via, s.CSRF, s.Address, s.CreatedAt, s.LastSeen, s.ExpiresAt)
	return wrap(err, "insert session")
}

// session reads one session by a unique column.
func (t *Tx) session(ctx context.Context, column, key string) (access.Session, error) {
	r, err := scanSession(t.tx.QueryRow(ctx, "SELECT "+sessionColumns+" FROM web_sessions WHERE "+column+" = $1", key))
	return r.Session, notFound(err, "session")
}

// SessionByHash returns a session by its secret's hash.
func (t *Tx) SessionByHash(ctx context.Context, hash string) (access.Session, error) {
	return t.session(ctx, "hash", hash)
}

// SessionByID returns a session by id.
func (t *Tx) SessionByID(ctx context.Context, id string) (access.Session, error) {
	return t.session(ctx, "id", id)
}

// TouchSession sets a session's last use.
func (t *Tx) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE web_sessions SET last_seen = $2 WHERE id = $1 AND last_seen < $2`, id, at)
	return wrap(err, "touch session")
}

// EndSession ends a live session and reports whether it was live.
func (t *Tx) EndSession(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE web_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, at)
	if err != nil {
		return false, wrap(err, "end session")
	}
	return tag.RowsAffected() == 1, nil
}

// EndUserSessions ends a user's live sessions and says how many.
func (t *Tx) EndUserSessions(ctx context.Context, userID string, at, seenAfter time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE web_sessions SET ended_at = $2
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen > $3`, userID, at, seenAfter)
	if err != nil {
		return 0, wrap(err, "end user sessions")
	}
	return int(tag.RowsAffected()), nil
}

// InsertLoginFlow stores a pending sign-in and drops the expired ones.
func (t *Tx) InsertLoginFlow(ctx context.Context, f access.LoginFlow) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM web_login_flows WHERE expires_at < $1`, f.ExpiresAt.Add(-time.Hour)); err != nil {
		return wrap(err, "drop expired sign-ins")
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO web_login_flows (state, via, verifier, nonce, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		f.State, f.Via, f.Verifier, f.Nonce, f.Return, f.ExpiresAt)
	return wrap(err, "insert sign-in")
}

// TakeLoginFlow removes and returns the pending sign-in of a state.
func (t *Tx) TakeLoginFlow(ctx context.Context, state string) (access.LoginFlow, error) {
	var f access.LoginFlow
	err := t.tx.QueryRow(ctx, `DELETE FROM web_login_flows WHERE state = $1 RETURNING state, via, verifier, nonce, return_to, expires_at`, state).
		Scan(&f.State, &f.Via, &f.Verifier, &f.Nonce, &f.Return, &f.ExpiresAt)
	return f, notFound(err, "sign-in")
}
