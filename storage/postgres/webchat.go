package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"opsbot/core"
	"opsbot/core/chat"
	"opsbot/core/org"
)

// Webchat is the webchat adapter's message store.
type Webchat struct {
	s       *Store
	inserts *core.Batcher[[]chat.WebchatMessage, []chat.WebchatMessage]
}

// Webchat returns the webchat store.
func (s *Store) Webchat() *Webchat { return s.webchat }

// webchatInsertBatch bounds the replies stored in one shared transaction
// (Insert), and webchatInsertWorkers the shared transactions at once.
const (
	webchatInsertBatch   = 64
	webchatInsertWorkers = 2
)

func newWebchat(s *Store) *Webchat {
	w := &Webchat{s: s}
	w.inserts = core.NewBatcher(webchatInsertWorkers, webchatInsertBatch, w.insertAll)
	return w
}

const webchatColumns = "id, seq, revision, to_user, to_channel, status, ref, title, body, fields, buttons, image, created_at, updated_at"

func scanWebchat(row pgx.Row) (chat.WebchatMessage, error) {
	var r chat.WebchatMessage
	var fields, buttons []byte
	err := row.Scan(&r.ID, &r.Seq, &r.Revision, &r.ToUser, &r.ToChannel, &r.Content.Status, &r.Content.Ref,
		&r.Content.Title, &r.Content.Text, &fields, &buttons, &r.Content.Image, &r.CreatedAt, &r.UpdatedAt)
	r.Content.Fields, r.Content.Buttons = fields, buttons
	return r, err
}

// jsonArray is an adapter's encoded list, "[]" when it gave none.
func jsonArray(v json.RawMessage) []byte {
	if len(v) == 0 {
		return []byte("[]")
	}
	return v
}

// Insert stores messages in one transaction, in order. Concurrent calls
// (every command's replies) share transactions (core.Batcher): one round
// trip and one commit for all waiting, not one each.
func (w *Webchat) Insert(ctx context.Context, recs []chat.WebchatMessage) ([]chat.WebchatMessage, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	return w.inserts.Do(ctx, recs)
}

// insertAll stores several calls' messages in one round trip (a batch is
// one implicit transaction: all its rows or none); when that fails, each
// call's alone, so one bad message fails its own call only.
func (w *Webchat) insertAll(ctx context.Context, calls [][]chat.WebchatMessage) ([][]chat.WebchatMessage, []error) {
	out, errs := make([][]chat.WebchatMessage, len(calls)), make([]error, len(calls))
	all, err := w.insertWebchat(ctx, calls)
	if err == nil {
		return all, errs
	}
	if len(calls) == 1 {
		errs[0] = err
		return out, errs
	}
	for i := range calls {
		one, err := w.insertWebchat(ctx, calls[i:i+1])
		if err == nil {
			out[i] = one[0]
		}
		errs[i] = err
	}
	return out, errs
}

// insertWebchat stores calls' messages, in order, in one statement (one
// round trip, one implicit transaction). The statement takes as many
// sequence values as there are messages and gives the smallest to the
// first message, and so on, so ids follow the messages' order whatever
// order Postgres takes the values in. It reads back only what the
// database gave each message (id, revision, times), not the content it
// was just sent.
func (w *Webchat) insertWebchat(ctx context.Context, calls [][]chat.WebchatMessage) ([][]chat.WebchatMessage, error) {
	n := 0
	for _, recs := range calls {
		n += len(recs)
	}
	// One backing array for the eight text columns, each its own slice.
	cols := make([]string, 8*n)
	users, channels, statuses, refs := cols[:0:n], cols[n:n:2*n], cols[2*n:2*n:3*n], cols[3*n:3*n:4*n]
	titles, bodies, fields, buttons := cols[4*n:4*n:5*n], cols[5*n:5*n:6*n], cols[6*n:6*n:7*n], cols[7*n:7*n:8*n]
	images := make([][]byte, 0, n)
	all := make([]chat.WebchatMessage, 0, n)
	for _, recs := range calls {
		for _, r := range recs {
			c := r.Content
			c.Fields, c.Buttons = jsonArray(c.Fields), jsonArray(c.Buttons)
			r.Content = c
			all = append(all, r)
			users, channels, statuses, refs = append(users, r.ToUser), append(channels, r.ToChannel), append(statuses, c.Status), append(refs, c.Ref)
			titles, bodies = append(titles, c.Title), append(bodies, c.Text)
			fields, buttons, images = append(fields, string(c.Fields)), append(buttons, string(c.Buttons)), append(images, c.Image)
		}
	}
	rows, err := w.s.pool.Query(ctx, `
		WITH x AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[])
				WITH ORDINALITY AS x(to_user, to_channel, status, ref, title, body, fields, buttons, image, n)),
		ids AS MATERIALIZED (SELECT nextval('webchat_seq') AS v FROM x),
		ranked AS (SELECT v, row_number() OVER (ORDER BY v) AS n FROM ids)
		INSERT INTO webchat_messages (id, seq, to_user, to_channel, status, ref, title, body, fields, buttons, image)
		SELECT r.v, r.v, x.to_user, x.to_channel, x.status, x.ref, x.title, x.body, x.fields::jsonb, x.buttons::jsonb, x.image
		FROM x JOIN ranked r ON r.n = x.n
		RETURNING id, seq, revision, created_at, updated_at`,
		users, channels, statuses, refs, titles, bodies, fields, buttons, images)
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat insert: %w", err)
	}
	stored, err := collectN(rows, len(all), func(row pgx.Row) (chat.WebchatMessage, error) {
		var r chat.WebchatMessage
		err := row.Scan(&r.ID, &r.Seq, &r.Revision, &r.CreatedAt, &r.UpdatedAt)
		return r, err
	}, "webchat insert")
	if err != nil {
		return nil, err
	}
	if len(stored) != len(all) {
		return nil, fmt.Errorf("postgres: webchat insert: %d rows stored of %d", len(stored), len(all))
	}
	// The k-th smallest seq is the k-th message's.
	slices.SortFunc(stored, func(a, b chat.WebchatMessage) int { return cmp.Compare(a.Seq, b.Seq) })
	for k, r := range stored {
		all[k].ID, all[k].Seq, all[k].Revision, all[k].CreatedAt, all[k].UpdatedAt = r.ID, r.Seq, r.Revision, r.CreatedAt, r.UpdatedAt
	}
	out := make([][]chat.WebchatMessage, len(calls))
	for i, recs := range calls {
		out[i], all = all[:len(recs):len(recs)], all[len(recs):]
	}
	return out, nil
}

// InsertOnce stores the message an outbox notice sends to one recipient,
// at most once per (outbox id, recipient): a second attempt stores
// nothing and reports inserted false.
func (w *Webchat) InsertOnce(ctx context.Context, outboxID int64, r chat.WebchatMessage) (inserted bool, err error) {
	recipient := "user:" + r.ToUser
	if r.ToChannel != "" {
		recipient = "channel:" + r.ToChannel
	}
	c := r.Content
	tag, err := w.s.pool.Exec(ctx, `
		WITH n AS (SELECT nextval('webchat_seq') AS v)
		INSERT INTO webchat_messages (id, seq, to_user, to_channel, status, ref, title, body, fields, buttons, image, outbox_id, recipient)
		SELECT n.v, n.v, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM n
		ON CONFLICT (outbox_id, recipient) WHERE outbox_id IS NOT NULL DO NOTHING`,
		r.ToUser, r.ToChannel, c.Status, c.Ref, c.Title, c.Text, jsonArray(c.Fields), jsonArray(c.Buttons), c.Image, outboxID, recipient)
	if err != nil {
		return false, fmt.Errorf("postgres: webchat insert of outbox %d: %w", outboxID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// UpdateByRef replaces the title, text, fields and buttons of every
// message about ref (status and image stay).
func (w *Webchat) UpdateByRef(ctx context.Context, ref string, before int64, c chat.WebchatContent) (int, error) {
	tag, err := w.s.pool.Exec(ctx, `UPDATE webchat_messages SET seq = nextval('webchat_seq'), revision = revision + 1,
		title = $2, body = $3, fields = $4, buttons = $5, updated_at = now()
		WHERE ref = $1 AND status <> 'error' AND ($6 = 0 OR outbox_id IS NULL OR outbox_id < $6)`,
		ref, c.Title, c.Text, jsonArray(c.Fields), jsonArray(c.Buttons), before)
	if err != nil {
		return 0, fmt.Errorf("postgres: webchat update: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Get returns one message.
func (w *Webchat) Get(ctx context.Context, id int64) (chat.WebchatMessage, error) {
	r, err := scanWebchat(w.s.pool.QueryRow(ctx, "SELECT "+webchatColumns+" FROM webchat_messages WHERE id = $1", id))
	return r, notFound(err, "webchat message")
}

// Inbox returns messages to user or to channels, after a cursor.
func (w *Webchat) Inbox(ctx context.Context, user string, channels []string, after int64, limit int) ([]chat.WebchatMessage, error) {
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
func (w *Webchat) Channel(ctx context.Context, name string, after int64, limit int) ([]chat.WebchatMessage, error) {
	rows, err := w.s.pool.Query(ctx, "SELECT "+webchatColumns+` FROM webchat_messages
		WHERE seq > $1 AND to_channel = $2 ORDER BY seq LIMIT $3`, after, name, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: webchat channel: %w", err)
	}
	return collect(rows, scanWebchat, "webchat channel")
}

// channelStore adapts Store to org.ChannelStore: the members sys admins
// added to channels (configured members come from the config).
type channelStore struct{ s *Store }

// Channels returns the channel membership store.
func (s *Store) Channels() org.ChannelStore { return channelStore{s} }

var _ org.ChannelTx = (*Tx)(nil)

// InTx runs fn in one transaction.
func (c channelStore) InTx(ctx context.Context, fn func(org.ChannelTx) error) error {
	return c.s.WithTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// AddChannelMember adds a channel member and reports whether they were new.
func (t *Tx) AddChannelMember(ctx context.Context, channel, user string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO webchat_channel_members (channel, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, channel, user)
	if err != nil {
		return false, fmt.Errorf("postgres: channel member add: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveChannelMember removes a channel member and reports whether they were one.
func (t *Tx) RemoveChannelMember(ctx context.Context, channel, user string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM webchat_channel_members WHERE channel = $1 AND user_id = $2`, channel, user)
	if err != nil {
		return false, fmt.Errorf("postgres: channel member remove: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ChannelMembers lists the added members of a channel.
func (t *Tx) ChannelMembers(ctx context.Context, channel string) ([]string, error) {
	return t.strings(ctx, "channel members", `SELECT user_id FROM webchat_channel_members WHERE channel = $1 ORDER BY user_id`, channel)
}

// MemberChannels lists the channels a user was added to.
func (t *Tx) MemberChannels(ctx context.Context, user string) ([]string, error) {
	return t.strings(ctx, "member channels", `SELECT channel FROM webchat_channel_members WHERE user_id = $1 ORDER BY channel`, user)
}

// strings runs a query of one text column.
func (t *Tx) strings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}
