package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/chat"
	"opsbot/core/org"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	require.NoError(t, s.Migrate(context.Background()))
}

func TestWebchatUpdateComesBackAfterTheCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := pgtest.New(t).Webchat()
	buttons := json.RawMessage(`[{"action":"approval.approve","value":"request:1","label":"同意","style":"","confirm":""}]`)
	recs, err := w.Insert(ctx, []chat.WebchatMessage{
		{ToUser: "a", Content: chat.WebchatContent{Status: "notice", Ref: "request:1", Title: "审批", Buttons: buttons}},
		{ToChannel: "ops", Content: chat.WebchatContent{Status: "notice", Ref: "request:1", Title: "审批"}},
		{ToUser: "b", Content: chat.WebchatContent{Status: "ok", Title: "别人的"}},
	})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, recs[0].ID, recs[0].Seq)
	chans := []string{"ops"} // a's channels (core/org channel membership)

	inbox, err := w.Inbox(ctx, "a", chans, 0, 100)
	require.NoError(t, err)
	require.Len(t, inbox, 2, "a sees their message and the channel's, not b's")
	cursor := inbox[1].Seq

	require.JSONEq(t, string(buttons), string(inbox[0].Content.Buttons))
	require.JSONEq(t, "[]", string(inbox[1].Content.Buttons), "no buttons are stored as an empty list")

	n, err := w.UpdateByRef(ctx, "request:1", 0, chat.WebchatContent{Title: "已同意", Fields: json.RawMessage(`[{"name":"结果","value":"同意"}]`)})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	again, err := w.Inbox(ctx, "a", chans, cursor, 100)
	require.NoError(t, err)
	require.Len(t, again, 2, "updated cards come again after the cursor")
	for _, r := range again {
		require.Equal(t, 2, r.Revision)
		require.Equal(t, "已同意", r.Content.Title)
		require.Equal(t, "notice", r.Content.Status, "an update keeps the status")
		require.JSONEq(t, "[]", string(r.Content.Buttons))
		require.JSONEq(t, `[{"name":"结果","value":"同意"}]`, string(r.Content.Fields))
		require.Greater(t, r.Seq, cursor)
	}
	require.Equal(t, recs[0].ID, again[0].ID, "an updated card keeps its id")

	// A step entered again posts a new card with the same ref (notice 20);
	// the update of the old card (notice 10), delivered after it, must
	// leave the new card's buttons alone.
	_, err = w.InsertOnce(ctx, 5, chat.WebchatMessage{ToUser: "c", Content: chat.WebchatContent{Status: "notice", Ref: "request:2#2", Title: "旧", Buttons: buttons}})
	require.NoError(t, err)
	_, err = w.InsertOnce(ctx, 20, chat.WebchatMessage{ToUser: "c", Content: chat.WebchatContent{Status: "notice", Ref: "request:2#2", Title: "新", Buttons: buttons}})
	require.NoError(t, err)
	n, err = w.UpdateByRef(ctx, "request:2#2", 10, chat.WebchatContent{Title: "已处理"})
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the card of the earlier notice")
	cs, err := w.Inbox(ctx, "c", nil, 0, 100)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	byTitle := map[string]chat.WebchatMessage{}
	for _, m := range cs {
		byTitle[m.Content.Title] = m
	}
	require.Contains(t, byTitle, "已处理")
	require.JSONEq(t, string(buttons), string(byTitle["新"].Content.Buttons), "the newer card keeps its buttons")

	_, err = w.Get(ctx, 999999)
	require.ErrorIs(t, err, core.ErrNotFound)
}

func notice(to string) core.Notice {
	return core.Notice{Ref: "user:" + to, To: core.Recipient{User: to}, Body: org.UserAdded{ByName: "x", UnitName: "y"}}
}

func TestOutboxWrittenOnlyOnCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	var kicked []int64
	s.OnOutbox(func(ids []int64) { kicked = append(kicked, ids...) })
	err := s.WithTx(ctx, func(tx *postgres.Tx) error {
		require.NoError(t, tx.Notify(ctx, notice("a")))
		require.NoError(t, tx.Audit(ctx, core.AuditEntry{Actor: "x", Platform: "test", Action: "a", Entity: "e:1"}))
		return errors.New("boom")
	})
	require.EqualError(t, err, "boom")
	n, err := s.Outbox().Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a rolled-back change leaves no notice")
	count, brk, err := s.VerifyAudit(ctx)
	require.NoError(t, err)
	require.Nil(t, brk)
	require.Zero(t, count, "and no audit entry")
	require.Empty(t, kicked)

	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error { return tx.Notify(ctx, notice("a")) }))
	require.Len(t, kicked, 1)
	err = s.WithTx(ctx, func(tx *postgres.Tx) error {
		return tx.Notify(ctx, core.Notice{Body: org.UserAdded{}})
	})
	require.Error(t, err, "a notice needs a recipient")
}

// TestOutboxClaimIsExclusive: many workers claiming one row at once send it once.
func TestOutboxClaimIsExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error { return tx.Notify(ctx, notice("a")) }))
	var sends atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Outbox().Claim(ctx, 1, func(d core.Delivery) ([]string, error) {
				sends.Add(1)
				return []string{"webchat"}, nil
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), sends.Load())
	state, attempts, err := s.Outbox().State(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "delivered", state)
	require.Equal(t, 1, attempts)
}

func TestOutboxFailureKeepsDeliveredPlatforms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error { return tx.Notify(ctx, notice("a")) }))
	found, err := s.Outbox().Claim(ctx, 1, func(d core.Delivery) ([]string, error) {
		return []string{"webchat"}, errors.New("wecom: 45009 api freq out of limit")
	})
	require.True(t, found)
	require.ErrorContains(t, err, "45009")
	require.NoError(t, s.Outbox().Reschedule(ctx, 1, 0, false))
	found, err = s.Outbox().Claim(ctx, 1, func(d core.Delivery) ([]string, error) {
		require.Equal(t, []string{"webchat"}, d.DeliveredPlatforms)
		require.Equal(t, 1, d.Attempts)
		return append(d.DeliveredPlatforms, "wecom"), nil
	})
	require.True(t, found)
	require.NoError(t, err)
	due, err := s.Outbox().Due(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due)
}

// Concurrent replies share transactions; each call gets its own messages,
// in order, and a message Postgres refuses fails its own call only (its
// batch is stored again call by call).
func TestWebchatConcurrentInsertsFailAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := pgtest.New(t).Webchat()
	const calls = 60
	type answer struct {
		recs []chat.WebchatMessage
		err  error
	}
	answers := make([]answer, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("u%02d", i)
			title := "第一条"
			if i%20 == 7 {
				title = "坏\x00" // Postgres text holds no NUL
			}
			recs, err := w.Insert(ctx, []chat.WebchatMessage{
				{ToUser: user, Content: chat.WebchatContent{Status: "ok", Title: title}},
				{ToUser: user, Content: chat.WebchatContent{Status: "ok", Title: "第二条", Text: "正文",
					Fields: json.RawMessage(`[{"label":"级别","value":"Ⅱ"}]`), Image: []byte{0x89, 'P'}}},
			})
			answers[i] = answer{recs, err}
		}()
	}
	wg.Wait()
	for i, a := range answers {
		user := fmt.Sprintf("u%02d", i)
		inbox, err := w.Inbox(ctx, user, nil, 0, 10)
		require.NoError(t, err)
		if i%20 == 7 {
			require.Error(t, a.err, "call %d", i)
			require.Empty(t, inbox, "a failed call stores none of its messages")
			continue
		}
		require.NoError(t, a.err, "call %d", i)
		require.Len(t, a.recs, 2)
		require.Equal(t, user, a.recs[0].ToUser)
		require.Equal(t, "第一条", a.recs[0].Content.Title)
		require.Equal(t, "第二条", a.recs[1].Content.Title)
		require.Less(t, a.recs[0].Seq, a.recs[1].Seq)
		require.Len(t, inbox, 2)
		// The answer is what was stored (JSON compared as values: the
		// database keeps it as jsonb, whose text differs).
		for k, got := range a.recs {
			want := inbox[k]
			require.Equal(t, want.ID, got.ID)
			require.Equal(t, want.Seq, got.Seq)
			require.Equal(t, want.Revision, got.Revision)
			require.Equal(t, want.ToChannel, got.ToChannel)
			require.True(t, want.CreatedAt.Equal(got.CreatedAt) && want.UpdatedAt.Equal(got.UpdatedAt))
			require.JSONEq(t, string(want.Content.Fields), string(got.Content.Fields))
			require.JSONEq(t, string(want.Content.Buttons), string(got.Content.Buttons))
			want.Content.Fields, want.Content.Buttons, got.Content.Fields, got.Content.Buttons = nil, nil, nil, nil
			require.Equal(t, want.Content, got.Content)
		}
	}
}

// A reply's body (a list page runs past the 2 kB where Postgres compresses
// a row) is compressed with lz4 where the server has it, about five times
// cheaper than the default pglz for every reply stored.
func TestWebchatBodyCompressesWithLZ4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	var lz4 bool
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4))
	if !lz4 {
		t.Skip("this Postgres was built without lz4")
	}
	var method string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT attcompression::text FROM pg_attribute
		WHERE attrelid = 'webchat_messages'::regclass AND attname = 'body'`).Scan(&method))
	require.Equal(t, "l", method)
	recs, err := s.Webchat().Insert(ctx, []chat.WebchatMessage{{ToUser: "u", Content: chat.WebchatContent{Status: "ok", Title: "事件",
		Text: strings.Repeat("- #128 Ⅲ级（较大） · SteadyAlert099 主机资源告警 · 处置中 · 无 · 11-30 12:16\n", 30)}}})
	require.NoError(t, err)
	var used string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT coalesce(pg_column_compression(body), '') FROM webchat_messages WHERE id = $1`, recs[0].ID).Scan(&used))
	require.Equal(t, "lz4", used)
}
