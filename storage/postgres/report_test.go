package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/approval"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
)

// TestMonthReads: the month reads of the tickets/SLA and approvals
// reports select by their times, [from, to): a ticket received, answered,
// closed or due in the month; a request submitted in it.
func TestMonthReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	cst := time.FixedZone("CST", 8*3600)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, cst) }
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst)
	answered := day(11, 3)
	ids := map[string]int64{}
	reqs := map[string]int64{}
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		require.NoError(t, tx.InsertUnit(ctx, org.Unit{Code: "city", Name: "市", Level: org.LevelCity, Path: "/city/", CreatedAt: day(1, 1)}))
		require.NoError(t, tx.InsertUser(ctx, org.User{ID: "ann", Name: "Ann", Unit: "city", CreatedAt: day(1, 1)}))
		for _, tk := range []struct {
			name             string
			created, due     time.Time
			answered, closed *time.Time
		}{
			{"received", day(11, 2), day(11, 4), nil, nil},
			{"answered in Nov", day(10, 30), day(11, 2), &answered, nil},
			{"due in Nov", day(10, 29), day(11, 1), nil, nil},
			{"closed on Dec 1 00:00 is December's", day(10, 1), day(10, 3), nil, &to},
			{"October's", day(10, 1), day(10, 3), nil, nil},
		} {
			k := ticket.Ticket{Kind: "tech", Title: tk.name, Asker: "ann", Assignees: []string{}, State: "open", CreatedAt: tk.created, DueAt: tk.due}
			require.NoError(t, tx.InsertTicket(ctx, &k))
			k.AnsweredAt, k.ClosedAt = tk.answered, tk.closed
			require.NoError(t, tx.UpdateTicket(ctx, k))
			ids[tk.name] = k.ID
		}
		for _, r := range []struct {
			name string
			at   time.Time
		}{{"Oct 31", day(10, 31)}, {"Nov 1", from}, {"Nov 30", day(11, 30)}, {"Dec 1", to}} {
			req := approval.Request{Kind: approval.KindOperation, Route: "operation/dual", State: approval.StatePending, Step: 1, Requester: "ann",
				Title: r.name, CreatedAt: r.at, UpdatedAt: r.at, StepSince: r.at}
			require.NoError(t, tx.InsertRequest(ctx, &req))
			reqs[r.name] = req.ID
		}
		return nil
	}))
	require.NoError(t, s.WithTx(ctx, func(tx *postgres.Tx) error {
		ts, err := tx.TicketsBetween(ctx, from, to)
		require.NoError(t, err)
		var got []int64
		for _, k := range ts {
			got = append(got, k.ID)
		}
		require.Equal(t, []int64{ids["received"], ids["answered in Nov"], ids["due in Nov"]}, got)

		require.NoError(t, tx.InsertDecision(ctx, approval.Decision{RequestID: reqs["Nov 1"], Step: 1, Actor: "ann", Verb: approval.VerbApprove,
			Platform: "webchat", At: day(11, 2)}))
		require.NoError(t, tx.InsertDecision(ctx, approval.Decision{RequestID: reqs["Nov 1"], Step: 1, Actor: "ann", Verb: approval.VerbReject,
			Note: "再议", Platform: "webchat", At: day(11, 3)}))
		ds, err := tx.DecisionsOf(ctx, []int64{reqs["Nov 1"], reqs["Nov 30"]})
		require.NoError(t, err)
		require.Len(t, ds, 1, "only requests with decisions")
		require.Equal(t, []string{approval.VerbApprove, approval.VerbReject}, []string{ds[reqs["Nov 1"]][0].Verb, ds[reqs["Nov 1"]][1].Verb})

		var linked, alone incident.Incident
		for _, i := range []*incident.Incident{&linked, &alone} {
			*i = incident.Incident{Title: "x", Level: 3, State: incident.StateDeclared, DeclaredBy: "ann", CreatedAt: day(11, 5), LastUpdateAt: day(11, 5)}
			require.NoError(t, tx.InsertIncident(ctx, i))
		}
		p := problem.Problem{Title: "磁盘", State: "open", CreatedBy: "ann", CreatedAt: day(11, 6)}
		require.NoError(t, tx.InsertProblem(ctx, &p))
		require.NoError(t, tx.LinkProblem(ctx, linked.ID, p.ID))
		links, err := tx.ProblemLinks(ctx, []int64{linked.ID, alone.ID})
		require.NoError(t, err)
		require.Equal(t, map[int64]int64{linked.ID: p.ID}, links)

		rs, err := tx.RequestsBetween(ctx, from, to)
		require.NoError(t, err)
		got = nil
		for _, r := range rs {
			got = append(got, r.ID)
		}
		require.Equal(t, []int64{reqs["Nov 1"], reqs["Nov 30"]}, got)
		return nil
	}))
}
