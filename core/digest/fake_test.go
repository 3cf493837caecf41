package digest_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/ticket"
	"opsbot/core/ticket/tickettest"
)

// at is a wall-clock time of 2026 in the calendar's zone.
func at(month time.Month, day, hour, minute int) time.Time {
	return tickettest.At(month, day, hour, minute)
}

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }

// event is an incident event.
type event struct {
	incident int64
	kind     string
	at       time.Time
}

// fake is an in-memory digest store: the org, what the digest counts,
// subscriptions, sent marks, notices and audit entries.
type fake struct {
	units     []org.Unit
	grants    []org.Grant
	incidents []incident.Incident
	events    []event
	rotations []duty.Rotation
	overrides map[string]map[string]string
	tickets   []ticket.Ticket
	requests  []approval.Request
	runs      []inspect.Run
	checks    []backup.Check
	subs      map[string]bool
	sent      map[string]bool // day|user
	notices   []core.Notice
	audit     []core.AuditEntry
}

func (f *fake) InTx(_ context.Context, fn func(tx digest.Tx, r digest.Reads) error) error {
	return fn(f, digest.Reads{Org: f, Incidents: f, Work: f})
}

func (f *fake) Audit(_ context.Context, e core.AuditEntry) error {
	f.audit = append(f.audit, e)
	return nil
}
func (f *fake) Notify(_ context.Context, n core.Notice) error {
	f.notices = append(f.notices, n)
	return nil
}

func (f *fake) MarkDigestSent(_ context.Context, day, user string, _ time.Time) (bool, error) {
	if f.sent[day+"|"+user] {
		return false, nil
	}
	f.sent[day+"|"+user] = true
	return true, nil
}

func (f *fake) DigestSubscription(_ context.Context, user string) (*bool, error) {
	on, ok := f.subs[user]
	if !ok {
		return nil, nil
	}
	return &on, nil
}

func (f *fake) SetDigestSubscription(_ context.Context, user string, on bool) error {
	f.subs[user] = on
	return nil
}

func (f *fake) GrantsOf(_ context.Context, userID string) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.UserID == userID {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Role < out[j].Role })
	return out, nil
}

func (f *fake) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range f.grants {
		if g.Role == role {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

func (f *fake) Root(_ context.Context) (org.Unit, error) { return f.units[0], nil }

func (f *fake) Unit(_ context.Context, code string) (org.Unit, error) {
	for _, u := range f.units {
		if u.Code == code {
			return u, nil
		}
	}
	return org.Unit{}, fmt.Errorf("unit %s: %w", code, core.ErrNotFound)
}

func (f *fake) Subtree(_ context.Context, prefix string) ([]org.Unit, error) {
	var out []org.Unit
	for _, u := range f.units {
		if strings.HasPrefix(u.Path, prefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fake) IncidentsSince(_ context.Context, since time.Time) ([]incident.Incident, error) {
	var out []incident.Incident
	for _, i := range f.incidents {
		if !i.CreatedAt.Before(since) || i.ResolvedAt == nil || !i.ResolvedAt.Before(since) {
			out = append(out, i)
		}
	}
	return out, nil
}

func (f *fake) EventIncidents(_ context.Context, kind string, from, to time.Time) ([]int64, error) {
	var out []int64
	for _, e := range f.events {
		if e.kind == kind && !e.at.Before(from) && e.at.Before(to) {
			out = append(out, e.incident)
		}
	}
	return out, nil
}

func (f *fake) Rotations(_ context.Context) ([]duty.Rotation, error) { return f.rotations, nil }

func (f *fake) Overrides(_ context.Context, rotation string) (map[string]string, error) {
	return f.overrides[rotation], nil
}

func (f *fake) TicketsSince(_ context.Context, since time.Time) ([]ticket.Ticket, error) {
	after := func(t *time.Time) bool { return t != nil && !t.Before(since) }
	var out []ticket.Ticket
	for _, t := range f.tickets {
		if t.State != "closed" || !t.DueAt.Before(since) || after(t.AnsweredAt) || after(t.ClosedAt) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fake) Requests(_ context.Context, filter approval.Filter) ([]approval.Request, error) {
	var out []approval.Request
	for _, r := range f.requests {
		if !filter.Pending || r.State == approval.StatePending {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fake) Runs(_ context.Context, planID int64, from, to time.Time, limit int) ([]inspect.Run, error) {
	var out []inspect.Run
	for _, r := range f.runs {
		if (planID == 0 || r.PlanID == planID) && !r.DueAt.Before(from) && r.DueAt.Before(to) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fake) BackupChecks(_ context.Context, planID int64, first, last string) ([]backup.Check, error) {
	var out []backup.Check
	for _, c := range f.checks {
		if (planID == 0 || c.PlanID == planID) && c.Day >= first && c.Day <= last {
			out = append(out, c)
		}
	}
	return out, nil
}

// recipients are the users the notices went to, sorted.
func recipients(ns []core.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.To.User)
	}
	slices.Sort(out)
	return out
}
