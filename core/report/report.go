// Package report computes the periodic reports per unit (M 6.1: "customised
// reports per unit"): the monthly incident analysis (W 8.5 d), the
// inspections of a month or quarter (W 6), the backup audit of a month
// (W 8.4.4), the tickets/SLA month (M 6.2) and the approvals month, each
// for an actor's view of the org (org.View, the scope rule) narrowed by an
// optional unit — the same for the chat's /report commands, the REST API
// and the console's pages and downloads.
//
// The domains count; this package only resolves the view and hands each
// domain its Keeps, so a district admin's report covers their district
// wherever they read it.
package report

import (
	"context"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// Keep is org.View.Keeps: whether a row about unit, involving people, is
// in the view.
type Keep = func(unit string, people ...string) bool

// Viewer gives an actor's view of the org (org.Service.View).
type Viewer interface {
	View(ctx context.Context, actor core.Actor) (org.View, error)
}

// Incidents is the monthly incident analysis (problem.Service).
type Incidents interface {
	MonthlyReport(ctx context.Context, actor core.Actor, month string, keep Keep) (problem.Report, error)
}

// Inspections is the inspections of a period (inspect.Service).
type Inspections interface {
	PeriodSummary(ctx context.Context, month, quarter string, keep Keep) (string, []inspect.PlanSummary, error)
}

// Backups is the backup audit of a month (backup.Service).
type Backups interface {
	AuditMonth(ctx context.Context, month string, keep Keep) (backup.AuditMonth, error)
}

// Tickets is the tickets/SLA month (ticket.Service).
type Tickets interface {
	SLAMonth(ctx context.Context, month string, keep Keep) (ticket.SLAMonth, error)
}

// Approvals is the approvals month (approval.Service).
type Approvals interface {
	Month(ctx context.Context, month string, keep Keep) (approval.Month, error)
}

// Deps are the services the reports read.
type Deps struct {
	Views       Viewer
	Incidents   Incidents
	Inspections Inspections
	Backups     Backups
	Tickets     Tickets
	Approvals   Approvals
}

// Service computes the reports of a view.
type Service struct{ d Deps }

// NewService returns the reports.
func NewService(d Deps) *Service { return &Service{d: d} }

// View is actor's view narrowed to unit's subtree ("" the whole view):
// core.Forbidden "outside_view" for a unit outside it (org.View.Narrow).
func (s *Service) View(ctx context.Context, actor core.Actor, unit string) (org.View, error) {
	v, err := s.d.Views.View(ctx, actor)
	if err != nil {
		return org.View{}, err
	}
	return v.Narrow(unit)
}

// Scope describes what a view's report counts: nil for the whole city,
// else the top units of the view (those whose parent is not in it); own
// is the user of a member's view (whose own items it counts).
func Scope(v org.View) (units []string, own string) {
	if v.All {
		return nil, ""
	}
	if v.Own != "" {
		return []string{}, v.Own
	}
	in := map[string]bool{}
	for _, u := range v.Tree {
		in[u.Code] = true
	}
	units = []string{}
	for _, u := range v.Tree {
		if !in[u.Parent] {
			units = append(units, u.Code)
		}
	}
	return units, ""
}

// Incidents is the monthly incident analysis (YYYY-MM) of view, its
// Scope and Own set from it.
func (s *Service) Incidents(ctx context.Context, actor core.Actor, view org.View, month string) (problem.Report, error) {
	rep, err := s.d.Incidents.MonthlyReport(ctx, actor, month, view.Keeps)
	if err != nil {
		return rep, err
	}
	rep.Scope, rep.Own = Scope(view)
	return rep, nil
}

// Inspections is the inspections of a month (YYYY-MM) or a quarter
// (YYYY-Qn; this month when neither is given) of view, with the period's
// label.
func (s *Service) Inspections(ctx context.Context, view org.View, month, quarter string) (string, []inspect.PlanSummary, error) {
	return s.d.Inspections.PeriodSummary(ctx, month, quarter, view.Keeps)
}

// Backups is the backup audit of a month (YYYY-MM) of view.
func (s *Service) Backups(ctx context.Context, view org.View, month string) (backup.AuditMonth, error) {
	return s.d.Backups.AuditMonth(ctx, month, view.Keeps)
}

// Tickets is the tickets/SLA month (YYYY-MM) of view.
func (s *Service) Tickets(ctx context.Context, view org.View, month string) (ticket.SLAMonth, error) {
	return s.d.Tickets.SLAMonth(ctx, month, view.Keeps)
}

// Approvals is the approvals month (YYYY-MM) of view.
func (s *Service) Approvals(ctx context.Context, view org.View, month string) (approval.Month, error) {
	return s.d.Approvals.Month(ctx, month, view.Keeps)
}
