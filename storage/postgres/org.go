package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core/org"
)

// orgStore adapts Store to org.Store.
type orgStore struct{ s *Store }

// Org returns the org store.
func (s *Store) Org() org.Store { return orgStore{s} }

// InTx runs fn in one transaction.
func (o orgStore) InTx(ctx context.Context, fn func(org.Ports) error) error {
	return o.s.WithTx(ctx, func(tx *Tx) error {
		return fn(org.Ports{Directory: tx, Editor: tx, Accounts: tx, Seeder: tx, Trail: tx})
	})
}

// Exclusive runs fn under the advisory lock name, so replicas seed the
// org one at a time.
func (o orgStore) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return o.s.Exclusive(ctx, name, fn)
}

const unitColumns = "code, name, level, coalesce(parent, ''), path, created_at, removed"

func scanUnit(row pgx.Row) (org.Unit, error) {
	var u org.Unit
	err := row.Scan(&u.Code, &u.Name, &u.Level, &u.Parent, &u.Path, &u.CreatedAt, &u.Removed)
	return u, err
}

// Unit returns a unit by code.
func (t *Tx) Unit(ctx context.Context, code string) (org.Unit, error) {
	return cachedOrg(ctx, t, unitKey(code), func() (org.Unit, error) {
		u, err := scanUnit(t.tx.QueryRow(ctx, "SELECT "+unitColumns+" FROM units WHERE code = $1", code))
		return u, notFound(err, "unit "+code)
	})
}

// Root returns the city unit.
func (t *Tx) Root(ctx context.Context) (org.Unit, error) {
	return cachedOrg(ctx, t, unitKey(""), func() (org.Unit, error) {
		u, err := scanUnit(t.tx.QueryRow(ctx, "SELECT "+unitColumns+" FROM units WHERE parent IS NULL"))
		return u, notFound(err, "root unit")
	})
}

// Subtree returns the active units under a path prefix, ordered by path.
func (t *Tx) Subtree(ctx context.Context, prefix string) ([]org.Unit, error) {
	return clone(cachedOrg(ctx, t, subtreeKey(prefix), func() ([]org.Unit, error) { return t.subtree(ctx, prefix) }))
}

func (t *Tx) subtree(ctx context.Context, prefix string) ([]org.Unit, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+unitColumns+` FROM units
		WHERE path LIKE $1 || '%' AND NOT removed ORDER BY path`, likeEscape(prefix))
	if err != nil {
		return nil, fmt.Errorf("postgres: subtree: %w", err)
	}
	return collect(rows, scanUnit, "subtree")
}

// InsertUnit inserts a unit.
func (t *Tx) InsertUnit(ctx context.Context, u org.Unit) error {
	t.org = true
	var parent any
	if u.Parent != "" {
		parent = u.Parent
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO units (code, name, level, parent, path, created_at, removed)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.Code, u.Name, u.Level, parent, u.Path, u.CreatedAt, u.Removed)
	return wrap(err, "insert unit")
}

// UpdateUnit updates a unit's name, parent, path and removed flag.
func (t *Tx) UpdateUnit(ctx context.Context, u org.Unit) error {
	t.org = true
	var parent any
	if u.Parent != "" {
		parent = u.Parent
	}
	_, err := t.tx.Exec(ctx, `UPDATE units SET name = $2, parent = $3, path = $4, removed = $5 WHERE code = $1`,
		u.Code, u.Name, parent, u.Path, u.Removed)
	return wrap(err, "update unit")
}

// RepathSubtree rewrites the paths below oldPrefix (the unit itself excluded).
func (t *Tx) RepathSubtree(ctx context.Context, oldPrefix, newPrefix string) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `UPDATE units SET path = $2 || substr(path, length($1) + 1)
		WHERE path LIKE $3 || '%' AND path <> $1`, oldPrefix, newPrefix, likeEscape(oldPrefix))
	return wrap(err, "repath subtree")
}

const userColumns = "id, name, unit, created_at, removed, service, language"

func scanUser(row pgx.Row) (org.User, error) {
	var u org.User
	err := row.Scan(&u.ID, &u.Name, &u.Unit, &u.CreatedAt, &u.Removed, &u.Service, &u.Language)
	return u, err
}

// User returns a user by id.
func (t *Tx) User(ctx context.Context, id string) (org.User, error) {
	return cachedOrg(ctx, t, userKey(id), func() (org.User, error) {
		u, err := scanUser(t.tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
		return u, notFound(err, "user "+id)
	})
}

// UsersIn returns the active users of the given units.
func (t *Tx) UsersIn(ctx context.Context, codes []string) ([]org.User, error) {
	return clone(cachedOrg(ctx, t, usersInKey(codes), func() ([]org.User, error) { return t.usersIn(ctx, codes) }))
}

func (t *Tx) usersIn(ctx context.Context, codes []string) ([]org.User, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+userColumns+" FROM users WHERE unit = ANY($1) AND NOT removed ORDER BY id", codes)
	if err != nil {
		return nil, fmt.Errorf("postgres: users in: %w", err)
	}
	return collect(rows, scanUser, "users in")
}

// InsertUser inserts a user.
func (t *Tx) InsertUser(ctx context.Context, u org.User) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `INSERT INTO users (id, name, unit, created_at, removed, service, language) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Name, u.Unit, u.CreatedAt, u.Removed, u.Service, u.Language)
	return wrap(err, "insert user")
}

// UpdateUser updates a user's name, unit, removed flag and language.
func (t *Tx) UpdateUser(ctx context.Context, u org.User) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `UPDATE users SET name = $2, unit = $3, removed = $4, service = $5, language = $6 WHERE id = $1`,
		u.ID, u.Name, u.Unit, u.Removed, u.Service, u.Language)
	return wrap(err, "update user")
}

const grantColumns = "g.user_id, g.role, g.scope, g.granted_by, g.granted_at"

func scanGrant(row pgx.Row) (org.Grant, error) {
	var g org.Grant
	err := row.Scan(&g.UserID, &g.Role, &g.Scope, &g.GrantedBy, &g.GrantedAt)
	return g, err
}

func (t *Tx) grants(ctx context.Context, where string, arg any) ([]org.Grant, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+grantColumns+` FROM role_grants g JOIN users u ON u.id = g.user_id
		WHERE NOT u.removed AND `+where+" ORDER BY g.role, g.scope, g.user_id", arg)
	if err != nil {
		return nil, fmt.Errorf("postgres: grants: %w", err)
	}
	return collect(rows, scanGrant, "grants")
}

// GrantsOf returns a user's grants.
func (t *Tx) GrantsOf(ctx context.Context, userID string) ([]org.Grant, error) {
	return clone(cachedOrg(ctx, t, grantsKey(userID), func() ([]org.Grant, error) {
		return t.grants(ctx, "g.user_id = $1", userID)
	}))
}

// GrantsOn returns the grants held on a scope.
func (t *Tx) GrantsOn(ctx context.Context, scope string) ([]org.Grant, error) {
	return t.grants(ctx, "g.scope = $1", scope)
}

// Holders returns the grants of a role held by active people: service
// users are never whom notices, approvals and duty go to.
func (t *Tx) Holders(ctx context.Context, role org.Role) ([]org.Grant, error) {
	return t.grants(ctx, "g.role = $1 AND NOT u.service", string(role))
}

// InsertGrant inserts a grant.
func (t *Tx) InsertGrant(ctx context.Context, g org.Grant) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `INSERT INTO role_grants (user_id, role, scope, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)`,
		g.UserID, g.Role, g.Scope, g.GrantedBy, g.GrantedAt)
	return wrap(err, "insert grant")
}

// DeleteGrant deletes a grant.
func (t *Tx) DeleteGrant(ctx context.Context, userID string, role org.Role, scope string) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `DELETE FROM role_grants WHERE user_id = $1 AND role = $2 AND scope = $3`, userID, role, scope)
	return wrap(err, "delete grant")
}

func scanIdentity(row pgx.Row) (org.Identity, error) {
	var i org.Identity
	err := row.Scan(&i.Platform, &i.ExternalID, &i.UserID)
	return i, err
}

// Identity returns the identity of a platform account.
func (t *Tx) Identity(ctx context.Context, platform, externalID string) (org.Identity, error) {
	return cachedOrg(ctx, t, identityKey(platform, externalID), func() (org.Identity, error) {
		i, err := scanIdentity(t.tx.QueryRow(ctx, `SELECT platform, external_id, user_id FROM identities
			WHERE platform = $1 AND external_id = $2`, platform, externalID))
		return i, notFound(err, "identity")
	})
}

// IdentitiesOf returns a user's identities.
func (t *Tx) IdentitiesOf(ctx context.Context, userID string) ([]org.Identity, error) {
	rows, err := t.tx.Query(ctx, `SELECT platform, external_id, user_id FROM identities WHERE user_id = $1 ORDER BY platform, external_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: identities: %w", err)
	}
	return collect(rows, scanIdentity, "identities")
}

// UpsertIdentity links a platform account to a user.
func (t *Tx) UpsertIdentity(ctx context.Context, i org.Identity) error {
	t.org = true
	_, err := t.tx.Exec(ctx, `INSERT INTO identities (platform, external_id, user_id) VALUES ($1, $2, $3)
		ON CONFLICT (platform, external_id) DO UPDATE SET user_id = excluded.user_id`, i.Platform, i.ExternalID, i.UserID)
	return wrap(err, "upsert identity")
}

// App returns an app by code.
func (t *Tx) App(ctx context.Context, code string) (org.App, error) {
	var a org.App
	err := t.tx.QueryRow(ctx, `SELECT code, name, owner, scope, level, status, version FROM apps WHERE code = $1`, code).
		Scan(&a.Code, &a.Name, &a.Owner, &a.Scope, &a.Level, &a.Status, &a.Version)
	return a, notFound(err, "app "+code)
}

// InsertApp inserts an app.
func (t *Tx) InsertApp(ctx context.Context, a org.App) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO apps (code, name, owner, scope, level, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.Code, a.Name, a.Owner, a.Scope, a.Level, a.Status, a.Version)
	return wrap(err, "insert app")
}

// InsertRotation inserts a duty rotation.
func (t *Tx) InsertRotation(ctx context.Context, r org.Rotation) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO duty_rotations (name, unit, members, every, handover, skip_holidays)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.Name, r.Unit, r.Members, r.Every, r.Handover, r.SkipHolidays)
	return wrap(err, "insert rotation")
}

func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error), what string) ([]T, error) {
	return collectN(rows, 0, scan, what)
}

// collectN is collect into a list with room for n rows (a query's LIMIT),
// so a page of rows does not grow its list five times over.
func collectN[T any](rows pgx.Rows, n int, scan func(pgx.Row) (T, error), what string) ([]T, error) {
	out, err := pgx.AppendRows(make([]T, 0, n), rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

func wrap(err error, what string) error {
	if err != nil {
		return mapErr(fmt.Errorf("postgres: %s: %w", what, err))
	}
	return nil
}

// likeEscape escapes LIKE wildcards in a literal prefix.
func likeEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// InsertWebToken stores a web chat token's hash.
func (t *Tx) InsertWebToken(ctx context.Context, w org.WebToken) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO webchat_tokens (hash, user_id, issued_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		w.Hash, w.UserID, w.IssuedBy, w.CreatedAt, w.ExpiresAt)
	return wrap(err, "insert web token")
}

// WebTokenUser returns the user of a live token.
func (t *Tx) WebTokenUser(ctx context.Context, hash string, now time.Time) (string, error) {
	var user string
	err := t.tx.QueryRow(ctx, `SELECT user_id FROM webchat_tokens WHERE hash = $1 AND revoked_at IS NULL AND expires_at > $2`, hash, now).Scan(&user)
	return user, notFound(err, "web token")
}

// RevokeWebTokens revokes a user's live tokens.
func (t *Tx) RevokeWebTokens(ctx context.Context, userID string, now time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE webchat_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`, userID, now)
	if err != nil {
		return 0, wrap(err, "revoke web tokens")
	}
	return int(tag.RowsAffected()), nil
}
