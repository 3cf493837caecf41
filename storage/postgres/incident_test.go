package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/storage/postgres/pgtest"
)

// TestFindIncidentsFilters: the SQL filter selects what Filter.Match
// selects, newest first, paged by id.
func TestFindIncidentsFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	all := []incident.Incident{
		{Title: "Mail down", Level: 2, State: incident.StateResolved, System: "mail", Unit: "city", Summary: "relay restarted", CreatedAt: t0},
		{Title: "portal slow", Level: 3, State: incident.StateAcknowledged, System: "portal", Unit: "dc-edu", CreatedAt: t0.Add(time.Hour)},
		{Title: "100% disk", Level: 1, State: incident.StateDeclared, Unit: "city", CreatedAt: t0.Add(2 * time.Hour)},
	}
	err := s.Incidents().InTx(ctx, func(tx incident.WriteTx) error {
		for i := range all {
			all[i].DeclaredBy, all[i].LastUpdateAt = "admin", all[i].CreatedAt
			if err := tx.InsertIncident(ctx, &all[i]); err != nil {
				return err
			}
			if all[i].Summary != "" {
				if err := tx.UpdateIncident(ctx, all[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	tests := []struct {
		name string
		f    incident.Filter
	}{
		{"all", incident.Filter{}},
		{"open", incident.Filter{State: incident.StateOpen}},
		{"one state", incident.Filter{State: incident.StateResolved}},
		{"level", incident.Filter{Level: 3}},
		{"unit", incident.Filter{Unit: "city"}},
		{"system", incident.Filter{System: "portal"}},
		{"since", incident.Filter{Since: t0.Add(time.Hour)}},
		{"until", incident.Filter{Until: t0.Add(time.Hour)}},
		{"text in title, any case", incident.Filter{Text: "MAIL"}},
		{"text in summary", incident.Filter{Text: "relay"}},
		{"text with a LIKE wildcard", incident.Filter{Text: "100%"}},
		{"before", incident.Filter{Before: all[2].ID}},
		{"combined", incident.Filter{State: incident.StateOpen, Unit: "city", Level: 1}},
		{"view of units", incident.Filter{View: &org.View{Basis: org.ViewUnits, Units: []string{"dc-edu", "dc-edu-it"}}}},
		{"view of the city", incident.Filter{View: &org.View{Basis: org.ViewCity, All: true}}},
		{"view of own items", incident.Filter{View: &org.View{Basis: org.ViewOwn, Own: "admin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Limit = 10
			var got []incident.Incident
			require.NoError(t, s.Incidents().Read(ctx, func(tx incident.ReadTx) error {
				var err error
				got, err = tx.FindIncidents(ctx, tt.f)
				return err
			}))
			var want, ids []int64
			for i := len(all) - 1; i >= 0; i-- {
				if tt.f.Match(all[i]) && (tt.f.Before == 0 || all[i].ID < tt.f.Before) {
					want = append(want, all[i].ID)
				}
			}
			for _, i := range got {
				ids = append(ids, i.ID)
			}
			require.Equal(t, want, ids)
			require.NotEmpty(t, ids, "each case selects something")
		})
	}
	var page []incident.Incident
	require.NoError(t, s.Incidents().Read(ctx, func(tx incident.ReadTx) error {
		var err error
		page, err = tx.FindIncidents(ctx, incident.Filter{Limit: 1})
		return err
	}))
	require.Len(t, page, 1)
	require.Equal(t, all[2].ID, page[0].ID)
}
