package ticket_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

// TestSLAMonth (M 6.2): the tickets/SLA month counts per kind the tickets
// received, answered and closed in the month, those answered by their
// deadline, those whose deadline passed unanswered or answered late, and
// the median working time to answer; a set of units counts only its
// tickets.
func TestSLAMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, tickettest.At(3, 2, 9, 0))
	t1 := b.open(t, "tech", "", "edu")          // due Mar 4 17:30
	t2 := b.open(t, "tech", "", "tax")          // never answered
	t3 := b.open(t, "business", "oa", "edu-it") // due Mar 9 17:30
	b.clock.T = tickettest.At(3, 3, 9, 0)
	_, err := b.svc.Answer(ctx, actor("op1"), t1.ID, "已重置")
	require.NoError(t, err)
	_, err = b.svc.Close(ctx, actor("asker"), t1.ID)
	require.NoError(t, err)
	b.clock.T = tickettest.At(3, 10, 10, 0)
	_, err = b.svc.Answer(ctx, actor("ap"), t3.ID, "已处理")
	require.NoError(t, err)
	b.clock.T = tickettest.At(3, 12, 9, 0)

	rep, err := b.svc.SLAMonth(ctx, "2026-03", nil)
	require.NoError(t, err)
	require.Equal(t, []ticket.KindMonth{
		{Kind: "tech", Opened: 2, Answered: 1, Closed: 1, InSLA: 1, Overdue: 1, MedianAnswer: 7 * time.Hour},
		{Kind: "business", Opened: 1, Answered: 1, InSLA: 0, Overdue: 1, MedianAnswer: 43 * time.Hour},
	}, rep.Kinds)
	require.Equal(t, ticket.KindMonth{Opened: 3, Answered: 2, Closed: 1, InSLA: 1, Overdue: 2, MedianAnswer: 25 * time.Hour}, rep.Total)
	require.Len(t, rep.Tickets, 3)
	require.True(t, rep.Tickets[0].InSLA)
	require.False(t, rep.Tickets[0].Late)
	require.True(t, rep.Tickets[1].Late)
	require.Equal(t, t2.ID, rep.Tickets[1].ID)
	require.True(t, rep.Tickets[2].Late)

	east := map[string]bool{"east": true, "edu": true, "edu-it": true}
	rep, err = b.svc.SLAMonth(ctx, "2026-03", func(u string, _ ...string) bool { return east[u] })
	require.NoError(t, err)
	require.Equal(t, 2, rep.Total.Opened)
	require.Equal(t, 1, rep.Total.Overdue)
	require.Equal(t, []int64{t1.ID, t3.ID}, []int64{rep.Tickets[0].ID, rep.Tickets[1].ID})

	rep, err = b.svc.SLAMonth(ctx, "2026-02", nil)
	require.NoError(t, err)
	require.Empty(t, rep.Kinds)
	require.Empty(t, rep.Tickets)

	_, err = b.svc.SLAMonth(ctx, "2026-13", nil)
	require.ErrorIs(t, err, core.ErrInvalid)
}
