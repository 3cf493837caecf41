// Package overview computes the console's overview (issue 15, M 6.1 a):
// for an actor's view of the org (org.View), the open incidents by level
// with their age, the non-200 joint-troubleshooting incidents, who is on
// duty now and next on each rotation that reaches the view, approvals
// waiting with their working time, tickets due today and overdue, and
// today's inspection runs and backup checks. It is read often (the
// console refreshes it live), so it reads everything in one transaction
// with a handful of indexed queries and no query per row.
package overview

import (
	"context"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/ticket"
)

// Reads are what the overview reads, in one read-only transaction.
type Reads interface {
	// User returns a user (core.ErrNotFound when unknown): the actor must be registered.
	User(ctx context.Context, id string) (org.User, error)
	// ActiveIncidents lists the incidents not yet resolved in view
	// (org.View.Keeps), newest first.
	ActiveIncidents(ctx context.Context, view org.View, limit int) ([]incident.Incident, error)
	// JointIncidents returns which of ids are joint troubleshooting (an
	// HTTP-availability alert group past the non-200 rule).
	JointIncidents(ctx context.Context, ids []int64) ([]int64, error)
	Rotations(ctx context.Context) ([]duty.Rotation, error)
	// Overrides returns a rotation's shift overrides.
	Overrides(ctx context.Context, rotation string) (map[string]string, error)
	Requests(ctx context.Context, f approval.Filter) ([]approval.Request, error)
	// OpenTickets lists the tickets whose clock runs or is paused (open or
	// waiting), oldest due first.
	OpenTickets(ctx context.Context, limit int) ([]ticket.Ticket, error)
	// Runs lists the inspection runs of a plan (0: every plan) due in [from, to).
	Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]inspect.Run, error)
	// BackupChecks lists the daily backup checks of a plan (0: every plan) on days first..last.
	BackupChecks(ctx context.Context, planID int64, first, last string) ([]backup.Check, error)
}

// Store runs overview reads.
type Store interface {
	Read(ctx context.Context, fn func(r Reads) error) error
}

// Limits of one overview.
const (
	// MaxIncidents is the most open incidents listed.
	MaxIncidents = 200
	// MaxItems is the most approvals and tickets read.
	MaxItems = 1000
)

// Overview is what the console's overview shows.
type Overview struct {
	At time.Time `json:"at"`
	// Open are the open incidents in view, newest first; ByLevel counts
	// them by level (index 0: level 1).
	Open    []incident.Incident `json:"open"`
	ByLevel [4]int              `json:"by_level"`
	// Joint are the open non-200 joint-troubleshooting incidents.
	Joint []incident.Incident `json:"joint"`
	// Duty is who is on duty now and next on each rotation reaching the view.
	Duty []duty.OnDuty `json:"duty"`
	// Approvals are the requests waiting, longest waiting first.
	Approvals []Waiting `json:"approvals"`
	// DueToday and Overdue are the unclosed tickets due today and the
	// open overdue ones.
	DueToday []ticket.Ticket `json:"due_today"`
	Overdue  []ticket.Ticket `json:"overdue"`
	// Inspections and Backups are today's runs and checks by outcome.
	Inspections Counts `json:"inspections"`
	Backups     Counts `json:"backups"`
}

// Waiting is a request waiting on a decision, for how long in working
// time since its current step began.
type Waiting struct {
	Request approval.Request `json:"request"`
	Working time.Duration    `json:"working"`
}

// Counts are today's routine work by outcome.
type Counts struct {
	Done    int `json:"done"`
	Missed  int `json:"missed"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
}

// Service computes overviews.
type Service struct {
	store Store
	clock core.Clock
	cal   *calendar.Calendar
}

// NewService returns the overview service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar) *Service {
	return &Service{store: store, clock: clock, cal: cal}
}

// Read returns the overview of view for actor, who must be a registered
// user; view is the actor's org.View (org.ViewOf), narrowed by a unit
// filter (View.Narrow). Inspections and backups are platform work: every
// view but own items sees them; own items count only runs they are
// assigned.
func (s *Service) Read(ctx context.Context, actor core.Actor, view org.View) (Overview, error) {
	now := s.clock.Now()
	loc := s.cal.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tomorrow := today.AddDate(0, 0, 1)
	out := Overview{At: now}
	err := s.store.Read(ctx, func(r Reads) error {
		if actor.UserID != core.SystemUser {
			u, err := r.User(ctx, actor.UserID)
			if err != nil || u.Removed {
				return core.Forbidden("not_registered", "id", actor.UserID)
			}
		}
		open, err := r.ActiveIncidents(ctx, view, MaxIncidents)
		if err != nil {
			return err
		}
		out.Open = open
		ids := make([]int64, 0, len(open))
		for _, i := range open {
			if i.Level >= 1 && i.Level <= 4 {
				out.ByLevel[i.Level-1]++
			}
			ids = append(ids, i.ID)
		}
		if len(ids) > 0 {
			joint, err := r.JointIncidents(ctx, ids)
			if err != nil {
				return err
			}
			for _, i := range open {
				if slices.Contains(joint, i.ID) {
					out.Joint = append(out.Joint, i)
				}
			}
		}
		if err := s.duty(ctx, r, view, now, &out); err != nil {
			return err
		}
		reqs, err := r.Requests(ctx, approval.Filter{Pending: true, Limit: MaxItems})
		if err != nil {
			return err
		}
		for _, q := range reqs {
			if q.State == approval.StatePending && view.Keeps(q.Unit, q.Requester) {
				out.Approvals = append(out.Approvals, Waiting{Request: q, Working: s.cal.WorkingBetween(q.StepSince, now)})
			}
		}
		slices.SortStableFunc(out.Approvals, func(a, b Waiting) int { return a.Request.StepSince.Compare(b.Request.StepSince) })
		tks, err := r.OpenTickets(ctx, MaxItems)
		if err != nil {
			return err
		}
		for _, t := range tks {
			if !view.Keeps(t.Unit, append([]string{t.Asker}, t.Assignees...)...) {
				continue
			}
			if t.Overdue && t.State == "open" {
				out.Overdue = append(out.Overdue, t)
			} else if (t.State == "open" || t.State == "waiting") && !t.DueAt.Before(today) && t.DueAt.Before(tomorrow) {
				out.DueToday = append(out.DueToday, t)
			}
		}
		return s.routines(ctx, r, view, today, tomorrow, &out)
	})
	return out, err
}

// duty fills in who is on duty on each rotation reaching the view.
func (s *Service) duty(ctx context.Context, r Reads, view org.View, now time.Time, out *Overview) error {
	if view.Own != "" {
		return nil
	}
	rots, err := r.Rotations(ctx)
	if err != nil {
		return err
	}
	for _, rot := range rots {
		if rot.Unit != "" && !view.Reaches(rot.Unit) {
			continue
		}
		over, err := r.Overrides(ctx, rot.Name)
		if err != nil {
			return err
		}
		sh := rot.ShiftAt(now, s.cal, over)
		out.Duty = append(out.Duty, duty.OnDuty{Rotation: rot, Now: sh, Next: rot.ShiftAt(sh.End, s.cal, over)})
	}
	return nil
}

// routines counts today's inspection runs and backup checks.
func (s *Service) routines(ctx context.Context, r Reads, view org.View, today, tomorrow time.Time, out *Overview) error {
	runs, err := r.Runs(ctx, 0, today, tomorrow, MaxItems)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if view.Own != "" && !slices.Contains(run.Assignees, view.Own) {
			continue
		}
		switch {
		case run.State == "done":
			out.Inspections.Done++
		case run.Missed:
			out.Inspections.Missed++
		default:
			out.Inspections.Pending++
		}
	}
	if view.Own != "" {
		return nil
	}
	day := today.Format("2006-01-02")
	checks, err := r.BackupChecks(ctx, 0, day, day)
	if err != nil {
		return err
	}
	for _, c := range checks {
		switch c.State {
		case "ok":
			out.Backups.Done++
		case "failed":
			out.Backups.Failed++
		case "missing":
			out.Backups.Missed++
		default:
			out.Backups.Pending++
		}
	}
	return nil
}
