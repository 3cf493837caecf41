package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"opsbot/adapters/webchat"
	"opsbot/bot"
)

// Webchat is the webchat adapter's message store.
type Webchat struct{ s *Store }

// Webchat returns the webchat store.
func (s *Store) Webchat() *Webchat { return &Webchat{s: s} }

const webchatColumns = "id, seq, revision, to_user, to_channel, status, ref, title, body, fields, buttons, image, created_at, updated_at"

func scanWebchat(row pgx.Row) (webchat.Record, error) {
	var r webchat.Record
	var fields, buttons []byte
	err := row.Scan(&r.ID, &r.Seq, &r.Revision, &r.To.User, &r.To.Channel, &r.Message.Status, &r.Message.Ref,
		&r.Message.Title, &r.Message.Text, &fields, &buttons, &r.Message.Image, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(fields, &r.Message.Fields); err != nil {
		return r, fmt.Errorf("fields: %w", err)
	}
	if err := json.Unmarshal(buttons, &r.Message.Buttons); err != nil {
		return r, fmt.Errorf("buttons: %w", err)
	}
	return r, nil
}

func jsonOrEmpty[T any](v []T) ([]byte, error) {
	if v == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(v)
}

// Insert stores messages in one transaction, in order.
func (w *Webchat) Insert(ctx context.Context, recs []webchat.Record) ([]webchat.Record, error) {
	out := make([]webchat.Record, 0, len(recs))
	err := w.s.WithTx(ctx, func(tx *Tx) error {
		for _, r := range recs {
			fields, err := jsonOrEmpty(r.Message.Fields)
			if err != nil {
				return err
			}
			buttons, err := jsonOrEmpty(r.Message.Buttons)
			if err != nil {
				return err
			}
			rec, err := scanWebchat(tx.tx.QueryRow(ctx, `
				WITH n AS (SELECT nextval('webchat_seq') AS v)
				INSERT INTO webchat_messages (id, seq, to_user, to_channel, status, ref, title, body, fields, buttons, image)
				SELECT n.v, n.v, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM n
				RETURNING `+webchatColumns,
				r.To.User, r.To.Channel, r.Message.Status, r.Message.Ref, r.Message.Title, r.Message.Text, fields, buttons, r.Message.Image))
			if err != nil {
				return fmt.Errorf("postgres: webchat insert: %w", err)
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// UpdateByRef replaces the content of every message about ref.
func (w *Webchat) UpdateByRef(ctx context.Context, ref string, m bot.Message) (int, error) {
	fields, err := jsonOrEmpty(m.Fields)
	if err != nil {
		return 0, err
	}
	buttons, err := jsonOrEmpty(m.Buttons)
	if err != nil {
		return 0, err
	}
	tag, err := w.s.pool.Exec(ctx, `UPDATE webchat_messages SET seq = nextval('webchat_seq'), revision = revision + 1,
		title = $2, body = $3, fields = $4, buttons = $5, updated_at = now()
		WHERE ref = $1 AND status <> 'error'`, ref, m.Title, m.Text, fields, buttons)
	if err != nil {
		return 0, fmt.Errorf("postgres: webchat update: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Get returns one message.
func (w *Webchat) Get(ctx context.Context, id int64) (webchat.Record, error) {
	r, err := scanWebchat(w.s.pool.QueryRow(ctx, "SELECT "+webchatColumns+" FROM webchat_messages WHERE id = $1", id))
	return r, notFound(err, "webchat message")
}

// Inbox returns messages to user or to channels, after a cursor.
func (w *Webchat) Inbox(ctx context.Context, user string, channels []string, after int64, limit int) ([]webchat.Record, error) {
	if channels == nil {
		channels = []string{}
	}
	rows, err := w.s.pool.Query(ctx, "SELECT "+webchatColumns+` FROM webchat_messages
		WHERE seq > $1 AND (to_user = $2 OR (to_channel <> '' AND to_channel = ANY($3)))
		ORDER BY seq LIMIT $4`, after, user, channels, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat inbox: %w", err)
	}
	return collect(rows, scanWebchat, "webchat inbox")
}

// Channel returns messages posted to a channel, after a cursor.
func (w *Webchat) Channel(ctx context.Context, name string, after int64, limit int) ([]webchat.Record, error) {
	rows, err := w.s.pool.Query(ctx, "SELECT "+webchatColumns+` FROM webchat_messages
		WHERE seq > $1 AND to_channel = $2 ORDER BY seq LIMIT $3`, after, name, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat channel: %w", err)
	}
	return collect(rows, scanWebchat, "webchat channel")
}

// Join adds a channel member.
func (w *Webchat) Join(ctx context.Context, channel, user string) error {
	_, err := w.s.pool.Exec(ctx, `INSERT INTO webchat_channel_members (channel, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, channel, user)
	return wrap(err, "webchat join")
}

// ChannelsOf lists a user's channels.
func (w *Webchat) ChannelsOf(ctx context.Context, user string) ([]string, error) {
	rows, err := w.s.pool.Query(ctx, `SELECT channel FROM webchat_channel_members WHERE user_id = $1 ORDER BY channel`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat channels: %w", err)
	}
	return out, nil
}
