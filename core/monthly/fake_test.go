package monthly_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/internal/fakestore"
	"opsbot/core/monthly"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// fake is the in-memory store and the report reads: incidents by unit,
// outages, inspection plans, sent marks and corrective actions.
type fake struct {
	*fakestore.Tx
	incidents map[string]int // unit → incidents in the month
	outages   []monthly.Outage
	plans     []inspect.PlanSummary
	sent      map[string]bool // kind|period|user
	actions   []monthly.Action
	tree      map[string][]string // unit → its subtree's codes
}

func newFake() *fake {
	f := &fake{Tx: fakestore.New(), incidents: map[string]int{}, sent: map[string]bool{}, tree: map[string][]string{}}
	return f
}

func (f *fake) InTx(_ context.Context, fn func(monthly.Tx) error) error { return fn(f) }

func (f *fake) MarkReportSent(_ context.Context, kind, period, user string, _ time.Time) (bool, error) {
	k := kind + "|" + period + "|" + user
	if f.sent[k] {
		return false, nil
	}
	f.sent[k] = true
	return true, nil
}

func (f *fake) ReportsSent(_ context.Context, kind, period string) ([]string, error) {
	var out []string
	for k := range f.sent {
		if p := strings.Split(k, "|"); p[0] == kind && p[1] == period {
			out = append(out, p[2])
		}
	}
	return out, nil
}

func (f *fake) HoldersOf(_ context.Context, role org.Role) ([]string, error) {
	var out []string
	for _, g := range f.Grants {
		if g.Role == role && !slices.Contains(out, g.UserID) {
			out = append(out, g.UserID)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fake) Outages(_ context.Context, from, to time.Time) ([]monthly.Outage, error) {
	var out []monthly.Outage
	for _, o := range f.outages {
		if o.Start.Before(to) && (o.End == nil || !o.End.Before(from)) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fake) InsertCheckAction(_ context.Context, a monthly.Action) error {
	f.actions = append(f.actions, a)
	return nil
}

func (f *fake) CheckAction(_ context.Context, quarter string, n int) (monthly.Action, error) {
	for _, a := range f.actions {
		if a.Quarter == quarter && a.N == n {
			return a, nil
		}
	}
	return monthly.Action{}, core.NotFound("check_action_not_found")
}

func (f *fake) CheckActions(_ context.Context, quarter string) ([]monthly.Action, error) {
	var out []monthly.Action
	for _, a := range f.actions {
		if a.Quarter == quarter {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fake) UpdateCheckAction(_ context.Context, a monthly.Action) error {
	for i, x := range f.actions {
		if x.Quarter == a.Quarter && x.N == a.N {
			f.actions[i] = a
		}
	}
	return nil
}

// View: sys_admins see the city, district and unit admins their subtrees.
func (f *fake) View(_ context.Context, actor core.Actor, _ string) (org.View, error) {
	v := org.View{}
	for _, g := range f.Grants {
		if g.UserID != actor.UserID {
			continue
		}
		switch g.Role {
		case org.RoleSysAdmin:
			return org.View{All: true, Basis: org.ViewCity}, nil
		case org.RoleDistrictAdmin, org.RoleUnitAdmin:
			v.Basis = org.ViewUnits
			v.Units = append(v.Units, f.tree[g.Scope]...)
			for i, u := range f.tree[g.Scope] {
				parent := g.Scope
				if i == 0 {
					parent = "city"
				}
				v.Tree = append(v.Tree, org.Unit{Code: u, Parent: parent})
			}
		}
	}
	return v, nil
}

func (f *fake) Incidents(_ context.Context, _ core.Actor, view org.View, month string) (problem.Report, error) {
	r := problem.Report{Month: month, ByLevel: map[int]int{}}
	for unit, n := range f.incidents {
		if view.Keeps(unit) {
			r.Total += n
			r.ByLevel[2] += n
		}
	}
	return r, nil
}

func (f *fake) Inspections(_ context.Context, _ org.View, _, _ string) (string, []inspect.PlanSummary, error) {
	return "", f.plans, nil
}

func (f *fake) Backups(_ context.Context, _ org.View, month string) (backup.AuditMonth, error) {
	return backup.AuditMonth{Audit: backup.Audit{Month: month, Systems: []backup.SystemMonth{{System: "db", Expected: 30, Missing: 1}}}}, nil
}

func (f *fake) Tickets(_ context.Context, _ org.View, month string) (ticket.SLAMonth, error) {
	return ticket.SLAMonth{Month: month, Total: ticket.KindMonth{Opened: 4, Answered: 3, InSLA: 3}}, nil
}

func (f *fake) Approvals(_ context.Context, _ org.View, month string) (approval.Month, error) {
	return approval.Month{Month: month, Total: approval.KindMonth{Requested: 2, Done: 1, Pending: 1}}, nil
}
