package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/access"
)

// tokenStore adapts Store to access.TokenStore.
type tokenStore struct{ s *Store }

// Tokens returns the API token store.
func (s *Store) Tokens() access.TokenStore { return tokenStore{s} }

var _ access.TokenTx = (*Tx)(nil)

// InTx runs fn in one transaction.
func (o tokenStore) InTx(ctx context.Context, fn func(access.TokenTx) error) error {
	return o.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Exclusive runs fn under the advisory lock name (the org seed lock).
func (o tokenStore) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return o.s.Exclusive(ctx, name, fn)
}

const tokenColumns = `id, hash, prefix, name, user_id, kind, scope, from_config, created_by, created_at,
	expires_at, revoked_at, revoked_by, last_used_at`

// orZero turns a nullable time into the zero time when NULL.
func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// orNull turns the zero time into NULL.
func orNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func scanToken(row pgx.Row) (access.Token, error) {
	var t access.Token
	var expires, revoked, used *time.Time
	err := row.Scan(&t.ID, &t.Hash, &t.Prefix, &t.Name, &t.UserID, &t.Kind, &t.Scope, &t.FromConfig, &t.CreatedBy, &t.CreatedAt,
		&expires, &revoked, &t.RevokedBy, &used)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = orZero(expires), orZero(revoked), orZero(used)
	return t, err
}

// InsertToken stores a token and returns its id.
func (t *Tx) InsertToken(ctx context.Context, k access.Token) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO api_tokens (hash, prefix, name, user_id, kind, scope, from_config, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		k.Hash, k.Prefix, k.Name, k.UserID, k.Kind, k.Scope, k.FromConfig, k.CreatedBy, k.CreatedAt, orNull(k.ExpiresAt)).Scan(&id)
	return id, wrap(err, "insert token")
}

// Token returns a token by id.
func (t *Tx) Token(ctx context.Context, id int64) (access.Token, error) {
	k, err := scanToken(t.tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1", id))
	return k, notFound(err, "token "+strconv.FormatInt(id, 10))
}

// TokenByHash returns the token with a secret's hash.
func (t *Tx) TokenByHash(ctx context.Context, hash string) (access.Token, error) {
	k, err := scanToken(t.tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE hash = $1", hash))
	return k, notFound(err, "token")
}

// Tokens lists the tokens q selects, newest first.
func (t *Tx) Tokens(ctx context.Context, q access.TokenQuery) ([]access.Token, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+tokenColumns+` FROM api_tokens
		WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR kind = $2) AND (NOT $3 OR from_config) AND ($4 OR revoked_at IS NULL)
		ORDER BY id DESC`, q.UserID, q.Kind, q.FromConfig, q.Revoked)
	if err != nil {
		return nil, fmt.Errorf("postgres: tokens: %w", err)
	}
	return collect(rows, scanToken, "tokens")
}

// UpdateToken writes a token's scope and revocation.
func (t *Tx) UpdateToken(ctx context.Context, k access.Token) error {
	_, err := t.tx.Exec(ctx, `UPDATE api_tokens SET scope = $2, revoked_at = $3, revoked_by = $4 WHERE id = $1`,
		k.ID, k.Scope, orNull(k.RevokedAt), k.RevokedBy)
	return wrap(err, "update token")
}

// TouchToken records a use, at most once per interval: last_used_at
// becomes at unless it is after before.
func (t *Tx) TouchToken(ctx context.Context, id int64, at, before time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		id, at, before)
	return wrap(err, "touch token")
}
