package ticket_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

// fake is an in-memory ticket store: the org, the tickets, their
// history, timers, notices and audit entries.
type fake struct {
	users            map[string]org.User
	units            map[string]org.Unit
	apps             map[string]org.App
	grants           []org.Grant
	tickets          map[int64]ticket.Ticket
	events           map[int64][]ticket.Event
	routinetest.Core // the audit trail, notices and timers
}

func newFake() *fake {
	return &fake{users: map[string]org.User{}, units: map[string]org.Unit{}, apps: map[string]org.App{},
		tickets: map[int64]ticket.Ticket{}, events: map[int64][]ticket.Event{}}
}

func (f *fake) InTx(_ context.Context, fn func(tx ticket.Tx) error) error    { return fn(f) }
func (f *fake) Read(_ context.Context, fn func(r ticket.Reader) error) error { return fn(f) }

func notFound(what, key string) error { return fmt.Errorf("%s %s: %w", what, key, core.ErrNotFound) }

func (f *fake) User(_ context.Context, id string) (org.User, error) {
	u, ok := f.users[id]
	if !ok {
		return u, notFound("user", id)
	}
	return u, nil
}

func (f *fake) App(_ context.Context, code string) (org.App, error) {
	a, ok := f.apps[code]
	if !ok {
		return a, notFound("app", code)
	}
	return a, nil
}

func (f *fake) Unit(_ context.Context, code string) (org.Unit, error) {
	u, ok := f.units[code]
	if !ok {
		return u, notFound("unit", code)
	}
	return u, nil
}

func (f *fake) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.Role == role && !f.users[g.UserID].Removed {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

func (f *fake) GrantsOf(_ context.Context, userID string) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.UserID == userID && !f.users[userID].Removed {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fake) InsertTicket(_ context.Context, t *ticket.Ticket) error {
	t.ID = int64(len(f.tickets) + 1)
	f.tickets[t.ID] = *t
	return nil
}

func (f *fake) Ticket(_ context.Context, id int64, _ bool) (ticket.Ticket, error) {
	t, ok := f.tickets[id]
	if !ok {
		return t, notFound("ticket", fmt.Sprint(id))
	}
	return t, nil
}

func (f *fake) UpdateTicket(_ context.Context, t ticket.Ticket) error {
	f.tickets[t.ID] = t
	return nil
}

func (f *fake) Tickets(_ context.Context, overdueOnly bool, limit int) ([]ticket.Ticket, error) {
	var out []ticket.Ticket
	for _, t := range f.tickets {
		if t.State != "closed" && (!overdueOnly || (t.Overdue && t.State == "open")) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fake) OpenTickets(_ context.Context, limit int) ([]ticket.Ticket, error) {
	var out []ticket.Ticket
	for _, t := range f.tickets {
		if t.State == "open" || t.State == "waiting" {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out[:min(len(out), limit)], nil
}

func (f *fake) InsertTicketEvent(_ context.Context, id int64, e ticket.Event) error {
	f.events[id] = append(f.events[id], e)
	return nil
}

func (f *fake) TicketEvents(_ context.Context, id int64) ([]ticket.Event, error) {
	return f.events[id], nil
}

// pending returns the pending SLA timers about ref, by mark.
func (f *fake) pending(ref string) map[string]time.Time {
	out := map[string]time.Time{}
	for _, t := range f.Timers {
		if t.Ref == ref && !t.Cancelled && !t.Fired {
			out[t.Data["mark"]] = t.DueAt.In(tickettest.CST())
		}
	}
	return out
}

// timerID returns the id of the pending timer about ref at mark.
func (f *fake) timerID(ref, mark string) int64 {
	for _, t := range f.Timers {
		if t.Ref == ref && !t.Cancelled && !t.Fired && t.Data["mark"] == mark {
			return t.ID
		}
	}
	return 0
}

// take returns the notices queued so far and forgets them.
func (f *fake) take() []core.Notice {
	out := f.Notices
	f.Notices = nil
	return out
}

// recipients are the users of notices, sorted.
func recipients(ns []core.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.To.User)
	}
	slices.Sort(out)
	return out
}

// city builds the org: the city, district "east" with unit "edu" and its
// department "edu-it", unit "tax" under the city; operators, a sys admin,
// admins, an access party of app "oa", a unit contact of "tax", askers.
func city(f *fake) {
	for _, u := range []org.Unit{
		{Code: "city", Name: "示范市", Level: org.LevelCity, Path: "/city/"},
		{Code: "east", Name: "东区", Level: org.LevelDistrict, Parent: "city", Path: "/city/east/"},
		{Code: "edu", Name: "教育局", Level: org.LevelUnit, Parent: "east", Path: "/city/east/edu/"},
		{Code: "edu-it", Name: "信息科", Level: org.LevelDepartment, Parent: "edu", Path: "/city/east/edu/edu-it/"},
		{Code: "tax", Name: "税务局", Level: org.LevelUnit, Parent: "city", Path: "/city/tax/"},
	} {
		f.units[u.Code] = u
	}
	for id, unit := range map[string]string{"sys": "city", "op1": "city", "op2": "city", "dist": "east", "eduadm": "edu",
		"taxcontact": "tax", "ap": "city", "asker": "edu-it", "other": "tax", "gone": "tax"} {
		f.users[id] = org.User{ID: id, Unit: unit, Removed: id == "gone"}
	}
	f.apps["oa"] = org.App{Code: "oa", Name: "协同办公"}
	f.apps["mail"] = org.App{Code: "mail", Name: "邮件"}
	f.grants = []org.Grant{
		{UserID: "sys", Role: org.RoleSysAdmin, Scope: "city"},
		{UserID: "op2", Role: org.RoleOperator, Scope: "city"},
		{UserID: "op1", Role: org.RoleOperator, Scope: "city"},
		{UserID: "dist", Role: org.RoleDistrictAdmin, Scope: "east"},
		{UserID: "eduadm", Role: org.RoleUnitAdmin, Scope: "edu"},
		{UserID: "taxcontact", Role: org.RoleUnitContact, Scope: "tax"},
		{UserID: "ap", Role: org.RoleAccessParty, Scope: "oa"},
	}
}
