package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/paging"
)

var _ paging.Tx = (*Tx)(nil)

// pagingStore adapts Store to paging.Store.
type pagingStore struct{ s *Store }

// Paging returns the paging store.
func (s *Store) Paging() paging.Store { return pagingStore{s} }

// InTx runs fn in one transaction.
func (o pagingStore) InTx(ctx context.Context, fn func(paging.Tx) error) error {
	return o.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Profile reads a person's contacts (oldest first) and quiet hours.
func (t *Tx) Profile(ctx context.Context, user string) (paging.Profile, error) {
	p := paging.Profile{UserID: user}
	err := t.tx.QueryRow(ctx, `SELECT quiet FROM paging_quiet WHERE user_id = $1`, user).Scan(&p.Quiet)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, wrap(err, "quiet hours")
	}
	rows, err := t.tx.Query(ctx, `SELECT id, user_id, kind, value, verified, code_hash, code_expires, attempts, created_at
		FROM contact_methods WHERE user_id = $1 ORDER BY id`, user)
	if err != nil {
		return p, wrap(err, "contacts")
	}
	p.Contacts, err = collect(rows, func(r pgx.Row) (paging.Contact, error) {
		var c paging.Contact
		var exp *time.Time
		err := r.Scan(&c.ID, &c.UserID, &c.Kind, &c.Value, &c.Verified, &c.CodeHash, &exp, &c.Attempts, &c.CreatedAt)
		c.CodeExpires = orZero(exp)
		return c, err
	}, "contacts")
	return p, err
}

// SaveContact inserts (ID 0) or updates a contact.
func (t *Tx) SaveContact(ctx context.Context, c *paging.Contact) error {
	if c.ID == 0 {
		err := t.tx.QueryRow(ctx, `INSERT INTO contact_methods (user_id, kind, value, verified, code_hash, code_expires, attempts, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			c.UserID, c.Kind, c.Value, c.Verified, c.CodeHash, orNull(c.CodeExpires), c.Attempts, c.CreatedAt).Scan(&c.ID)
		return wrap(err, "insert contact")
	}
	_, err := t.tx.Exec(ctx, `UPDATE contact_methods SET verified = $2, code_hash = $3, code_expires = $4, attempts = $5 WHERE id = $1`,
		c.ID, c.Verified, c.CodeHash, orNull(c.CodeExpires), c.Attempts)
	return wrap(err, "update contact")
}

// DeleteContact removes a contact.
func (t *Tx) DeleteContact(ctx context.Context, id int64) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM contact_methods WHERE id = $1`, id)
	return wrap(err, "delete contact")
}

// SetQuiet sets a person's quiet hours ("" clears them).
func (t *Tx) SetQuiet(ctx context.Context, user, quiet string) error {
	if quiet == "" {
		_, err := t.tx.Exec(ctx, `DELETE FROM paging_quiet WHERE user_id = $1`, user)
		return wrap(err, "clear quiet hours")
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO paging_quiet (user_id, quiet) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET quiet = EXCLUDED.quiet`, user, quiet)
	return wrap(err, "set quiet hours")
}

// SavePage inserts a page once per key (false when its key is stored
// already), or updates one.
func (t *Tx) SavePage(ctx context.Context, p *paging.Record) (bool, error) {
	if p.ID != 0 {
		_, err := t.tx.Exec(ctx, `UPDATE pages SET status = $2, provider = $3, message_id = $4, attempts = $5, error = $6, acked_at = $7
			WHERE id = $1`, p.ID, p.Status, p.Provider, p.MessageID, p.Attempts, p.Error, p.AckedAt)
		return true, wrap(err, "update page")
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO pages (key, incident_id, user_id, step, method, address, level, title, status, provider,
		message_id, attempts, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (key) DO NOTHING RETURNING id`,
		p.Key, p.IncidentID, p.UserID, p.Step, string(p.Method), p.Address, p.Level, p.Title, p.Status, p.Provider,
		p.MessageID, p.Attempts, p.Error, p.At).Scan(&p.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap(err, "insert page")
}

// FindPages returns the pages f selects, newest first.
func (t *Tx) FindPages(ctx context.Context, f paging.Filter) ([]paging.Record, error) {
	methods := make([]string, len(f.Methods))
	for i, m := range f.Methods {
		methods[i] = string(m)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.tx.Query(ctx, `SELECT id, key, incident_id, user_id, step, method, address, level, title, status, provider,
		message_id, attempts, error, at, acked_at FROM pages
		WHERE ($1 = '' OR key = $1) AND ($2 = 0 OR incident_id = $2) AND ($3 = '' OR user_id = $3) AND ($4 = '' OR address = $4)
		AND ($5 = '' OR message_id = $5) AND (cardinality($6::text[]) = 0 OR method = ANY($6))
		AND (cardinality($7::text[]) = 0 OR status = ANY($7)) AND at >= $8
		ORDER BY id DESC LIMIT $9`,
		f.Key, f.IncidentID, f.UserID, f.Address, f.MessageID, methods, nonNil(f.Statuses), f.Since, limit)
	if err != nil {
		return nil, wrap(err, "pages")
	}
	return collect(rows, func(r pgx.Row) (paging.Record, error) {
		var p paging.Record
		var m string
		err := r.Scan(&p.ID, &p.Key, &p.IncidentID, &p.UserID, &p.Step, &m, &p.Address, &p.Level, &p.Title, &p.Status, &p.Provider,
			&p.MessageID, &p.Attempts, &p.Error, &p.At, &p.AckedAt)
		p.Method = paging.Method(m)
		return p, err
	}, "pages")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// PutToken stores a one-time acknowledge link by its hash.
func (t *Tx) PutToken(ctx context.Context, k paging.Token) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO ack_tokens (hash, page_id, incident_id, user_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		k.Hash, k.PageID, k.IncidentID, k.UserID, k.Expires)
	return wrap(err, "insert ack token")
}

// UseToken marks a link used at now when it is unused (true), under its row lock.
func (t *Tx) UseToken(ctx context.Context, hash string, now time.Time) (paging.Token, bool, error) {
	var k paging.Token
	err := t.tx.QueryRow(ctx, `SELECT hash, page_id, incident_id, user_id, expires_at, used_at FROM ack_tokens WHERE hash = $1 FOR UPDATE`,
		hash).Scan(&k.Hash, &k.PageID, &k.IncidentID, &k.UserID, &k.Expires, &k.UsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, false, core.ErrNotFound
	}
	if err != nil || k.UsedAt != nil {
		return k, false, wrap(err, "ack token")
	}
	_, err = t.tx.Exec(ctx, `UPDATE ack_tokens SET used_at = $2 WHERE hash = $1`, hash, now)
	k.UsedAt = &now
	return k, err == nil, wrap(err, "use ack token")
}

// HoldIncident takes the lock a page row's foreign key takes on its
// incident (FOR KEY SHARE), ahead of the paging timer's claim.
func (t *Tx) HoldIncident(ctx context.Context, id int64) error {
	_, err := t.tx.Exec(ctx, `SELECT 1 FROM incidents WHERE id = $1 FOR KEY SHARE`, id)
	return wrap(err, "hold incident")
}
