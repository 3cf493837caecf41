package ticket_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/org"
	"opsbot/core/ticket/tickettest"
)

// TestBoard: the SLA board lists the unclosed tickets in view, each with
// the clock /ticket show gives (remaining working time, paused, overdue).
func TestBoard(t *testing.T) {
	t.Parallel()
	b := setup(t, tickettest.At(time.March, 2, 9, 0))
	edu := b.open(t, "tech", "", "edu")
	tax := b.open(t, "tech", "", "tax")
	b.clock.T = tickettest.At(time.March, 3, 10, 0)
	east := org.View{Basis: org.ViewUnits, Units: []string{"east", "edu", "edu-it"}}
	rows, err := b.svc.Board(context.Background(), actor("dist"), east)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, edu.ID, rows[0].Ticket.ID)
	d, err := b.svc.Show(context.Background(), actor("dist"), edu.ID)
	require.NoError(t, err)
	require.Equal(t, d.Clock, rows[0].Clock, "the same numbers as /ticket show")
	require.True(t, rows[0].Clock.Running)
	require.Positive(t, rows[0].Clock.Remaining)

	rows, err = b.svc.Board(context.Background(), actor("op1"), org.View{Basis: org.ViewOperations, All: true})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	rows, err = b.svc.Board(context.Background(), actor("asker"), org.View{Basis: org.ViewOwn, Own: "asker"})
	require.NoError(t, err)
	require.Len(t, rows, 2, "the asker asked both")
	rows, err = b.svc.Board(context.Background(), actor("other"), org.View{Basis: org.ViewOwn, Own: "other"})
	require.NoError(t, err)
	require.Empty(t, rows)
	_ = tax
}
