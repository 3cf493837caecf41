package postgres

import (
	"context"
	"encoding/json"

	"opsbot/core/chat"
)

// PlatformMessages stores where cards went on WeCom and Slack, and the
// messages their rate limits held back (core/chat records).
type PlatformMessages struct{ s *Store }

// PlatformMessages returns the platform card store.
func (s *Store) PlatformMessages() *PlatformMessages { return &PlatformMessages{s: s} }

// Save records a card sent to address about ref by outbox notice outboxID
// (0: a direct reply) and returns its id.
func (p *PlatformMessages) Save(ctx context.Context, platform, ref, address string, outboxID int64, data json.RawMessage) (int64, error) {
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	var id int64
	err := p.s.pool.QueryRow(ctx, `
		INSERT INTO platform_messages (platform, ref, address, data, outbox_id) VALUES ($1, $2, $3, $4, nullif($5, 0)) RETURNING id`,
		platform, ref, address, []byte(data), outboxID).Scan(&id)
	return id, mapErr(err)
}

// ByRef lists the cards sent about ref on platform, oldest first: with
// before > 0 only those an update by outbox notice before may replace
// (posted by an earlier notice, or by a direct reply).
func (p *PlatformMessages) ByRef(ctx context.Context, platform, ref string, before int64) ([]chat.PlatformMessage, error) {
	rows, err := p.s.pool.Query(ctx, `
		SELECT id, platform, ref, address, data, created_at, updated_at
		FROM platform_messages WHERE platform = $1 AND ref = $2 AND ($3 = 0 OR outbox_id IS NULL OR outbox_id < $3) ORDER BY id`,
		platform, ref, before)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []chat.PlatformMessage
	for rows.Next() {
		var m chat.PlatformMessage
		var data []byte
		if err := rows.Scan(&m.ID, &m.Platform, &m.Ref, &m.Address, &data, &m.CreatedAt, &m.UpdatedAt); err != nil {
			return nil, mapErr(err)
		}
		m.Data = data
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// SetData replaces the adapter data of one card (for example a spent
// response_code).
func (p *PlatformMessages) SetData(ctx context.Context, id int64, data json.RawMessage) error {
	_, err := p.s.pool.Exec(ctx, `UPDATE platform_messages SET data = $2, updated_at = now() WHERE id = $1`, id, []byte(data))
	return mapErr(err)
}

// Hold keeps a message for address until the platform's window frees.
func (p *PlatformMessages) Hold(ctx context.Context, platform, address string, body json.RawMessage) error {
	_, err := p.s.pool.Exec(ctx, `INSERT INTO platform_held (platform, address, body) VALUES ($1, $2, $3)`,
		platform, address, []byte(body))
	return mapErr(err)
}

// HeldAddresses lists the addresses with held messages on platform.
func (p *PlatformMessages) HeldAddresses(ctx context.Context, platform string) ([]string, error) {
	rows, err := p.s.pool.Query(ctx, `SELECT DISTINCT address FROM platform_held WHERE platform = $1 ORDER BY address`, platform)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Holds reports whether messages are held for address on platform.
func (p *PlatformMessages) Holds(ctx context.Context, platform, address string) (bool, error) {
	var held bool
	err := p.s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM platform_held WHERE platform = $1 AND address = $2)`,
		platform, address).Scan(&held)
	return held, mapErr(err)
}

// Release hands the messages held for address, oldest first, to send; they
// are deleted only when send returns nil, in one transaction with a row
// lock, so two workers never send the same held message.
func (p *PlatformMessages) Release(ctx context.Context, platform, address string, send func(held []chat.HeldMessage) error) error {
	return p.s.WithTx(ctx, func(tx *Tx) error {
		rows, err := tx.tx.Query(ctx, `
			SELECT id, address, body, created_at FROM platform_held
			WHERE platform = $1 AND address = $2 ORDER BY id FOR UPDATE SKIP LOCKED`, platform, address)
		if err != nil {
			return err
		}
		var held []chat.HeldMessage
		for rows.Next() {
			var h chat.HeldMessage
			var body []byte
			if err := rows.Scan(&h.ID, &h.Address, &body, &h.CreatedAt); err != nil {
				rows.Close()
				return err
			}
			h.Body = body
			held = append(held, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(held) == 0 {
			return err
		}
		if err := send(held); err != nil {
			return err
		}
		ids := make([]int64, len(held))
		for i, h := range held {
			ids[i] = h.ID
		}
		_, err = tx.tx.Exec(ctx, `DELETE FROM platform_held WHERE id = ANY($1)`, ids)
		return err
	})
}
