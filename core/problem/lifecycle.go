package problem

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Problem states (W 8.5 e–i). StateNew keeps the stored word "open" of
// the first problem library.
const (
	StateNew        = "open"        // 待分析
	StateAnalysing  = "analysing"   // 分析中
	StateCauseFound = "cause_found" // 已找到根因
	StateResolved   = "resolved"    // 已解决
	StateClosed     = "closed"      // 已关闭
)

// Timer kinds: the owner is reminded at 09:00 on the due date, and the
// owner's admins are told at 09:00 the day after when it is still open.
const (
	TimerDue     = "problem:due"
	TimerOverdue = "problem:overdue"
)

// DefaultDueDays is how many working days the owner of a problem a level
// I/II incident proposed has to resolve it, unless configured.
const DefaultDueDays = 10

// StepTx is what the lifecycle's steps and timers need beyond Tx; the
// store's transaction implements both (checked at each step).
type StepTx interface {
	// UpdateProblem saves p when its state is still from (a guarded
	// step); false when another step got there first.
	UpdateProblem(ctx context.Context, p Problem, from string) (bool, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	// RequestKind returns the kind of an approval request (core.ErrNotFound when none).
	RequestKind(ctx context.Context, id int64) (string, error)
}

// stepper is a transaction with the steps' methods.
type stepper interface {
	Tx
	StepTx
}

// stepTx is tx with the steps' methods.
func stepTx(tx Tx) (stepper, error) {
	st, ok := tx.(stepper)
	if !ok {
		return nil, errors.New("problem: the store's transaction keeps no problem steps")
	}
	return st, nil
}

// Done reports whether the problem needs no more work (resolved or closed).
func (p Problem) Done() bool { return p.State == StateResolved || p.State == StateClosed }

// Assigned tells a problem's owner it is theirs, and by when.
type Assigned struct {
	Problem  int64     `json:"problem"`
	Title    string    `json:"title"`
	Owner    string    `json:"owner"`
	Due      time.Time `json:"due"`
	Incident int64     `json:"incident,omitempty"` // set when a level I/II incident proposed it
	By       string    `json:"by"`
}

// NoticeType is "problem.assigned".
func (Assigned) NoticeType() string { return "problem.assigned" }

// Due reminds the owner on the due date (Overdue false) or tells the
// owner's admins the day after (Overdue true).
type Due struct {
	Problem int64     `json:"problem"`
	Title   string    `json:"title"`
	State   string    `json:"state"`
	Owner   string    `json:"owner"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
}

// NoticeType is "problem.due".
func (Due) NoticeType() string { return "problem.due" }

// WithMajor makes the proposer also open a problem when a level I or II
// incident is resolved (W 8.5: major incidents become problems), owned
// by the incident's owner and due days working days later.
func (p *Proposer) WithMajor(cal *calendar.Calendar, days int) *Proposer {
	if days <= 0 {
		days = DefaultDueDays
	}
	p.cal, p.days = cal, days
	return p
}

// dueDate is the date n working days after t (the close of the Nth working day).
func dueDate(cal *calendar.Calendar, t time.Time, n int) time.Time {
	d := cal.DueAfterDays(t, n).In(cal.Location())
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, cal.Location())
}

// scheduleDue (re)sets the problem's reminder and escalation timers.
func scheduleDue(ctx context.Context, tx core.Tx, loc *time.Location, p Problem) error {
	if err := tx.CancelTimers(ctx, p.Ref(), ""); err != nil {
		return err
	}
	if p.Due == nil || p.Done() {
		return nil
	}
	d := p.Due.In(loc)
	at := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc)
	if err := tx.Schedule(ctx, core.Timer{Kind: TimerDue, Ref: p.Ref(), DueAt: at}); err != nil {
		return err
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerOverdue, Ref: p.Ref(), DueAt: at.AddDate(0, 0, 1)})
}

// ProposeMajor opens a problem (待分析) for a level I or II incident being
// resolved (not saved yet; tx is the resolution's transaction and must
// implement ProposeTx), linked to it, owned by its owner, due in the
// configured working days, and tells the owner. It returns the problem's
// id, 0 when none (a lower level, major proposals off, or the incident
// already linked to a problem).
func (p *Proposer) ProposeMajor(ctx context.Context, tx core.Tx, i incident.Incident) (int64, error) {
	if p.cal == nil || i.Level > 2 {
		return 0, nil
	}
	ptx, ok := tx.(ProposeTx)
	if !ok {
		return 0, errors.New("problem: propose in a transaction that keeps no problems")
	}
	if id, err := ptx.ProblemOf(ctx, i.ID); err != nil || id != 0 {
		return 0, err
	}
	now := p.clock.Now()
	due := dueDate(p.cal, now, p.days)
	owner := i.Owner
	if owner == "" {
		owner = i.DeclaredBy
	}
	pr := Problem{Title: incident.TitleWithNote("#"+strconv.FormatInt(i.ID, 10), i.Title), System: i.System, State: StateNew,
		Proposed: true, CreatedBy: core.SystemUser, CreatedAt: now, Owner: owner, Due: &due, Incident: i.ID}
	if err := ptx.InsertProblem(ctx, &pr); err != nil {
		return 0, err
	}
	if err := ptx.LinkProblem(ctx, i.ID, pr.ID); err != nil {
		return 0, err
	}
	if err := scheduleDue(ctx, ptx, p.cal.Location(), pr); err != nil {
		return 0, err
	}
	if err := ptx.Notify(ctx, core.Notice{Ref: pr.Ref(), To: core.Recipient{User: owner},
		Body: Assigned{Problem: pr.ID, Title: pr.Title, Owner: owner, Due: due, Incident: i.ID, By: core.SystemUser}}); err != nil {
		return 0, err
	}
	return pr.ID, core.Record(ctx, ptx, now, core.SystemActor(), "problem.propose", pr.Ref(), nil, pr)
}

// step loads a problem, checks the actor may move it and that it is in
// one of from, applies fn and saves it guarded on its state, audited as
// action.
func (s *Service) step(ctx context.Context, actor core.Actor, id int64, action string, from []string, fn func(tx stepper, p *Problem) error) (Problem, error) {
	var out Problem
	err := s.store.InTx(ctx, func(ptx Tx) error {
		tx, err := stepTx(ptx)
		if err != nil {
			return err
		}
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		p, err := tx.Problem(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("problem_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		if !slices.Contains(from, p.State) {
			return core.Conflict("problem_state", "id", itoa(id), "pstate", p.State, "pstep", action, "need", from[0])
		}
		if err := s.mayMove(ctx, tx, actor, p); err != nil {
			return err
		}
		before := p
		if err := fn(tx, &p); err != nil {
			return err
		}
		ok, err := tx.UpdateProblem(ctx, p, before.State)
		if err != nil {
			return err
		}
		if !ok {
			return core.AlreadyDecided("problem_moved", "id", itoa(id))
		}
		if err := scheduleDue(ctx, tx, s.cal.Location(), p); err != nil {
			return err
		}
		out = p
		return core.Record(ctx, tx, s.clock.Now(), actor, action, p.Ref(), before, p)
	})
	return out, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// mayMove lets the owner, the owner's admins (org.AdminsOf), the
// operators and the sys admins move a problem (problem_not_owner otherwise).
func (s *Service) mayMove(ctx context.Context, tx stepper, actor core.Actor, p Problem) error {
	if actor.UserID == p.Owner {
		return nil
	}
	if p.Owner != "" {
		admins, err := org.AdminsOf(ctx, tx, p.Owner)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		if slices.Contains(admins, actor.UserID) {
			return nil
		}
	}
	return org.RequirePlatform(ctx, tx, actor.UserID, "problem_not_owner", "id", itoa(p.ID), "owner", orDash(p.Owner))
}

// Assign gives a problem to user, due on the date due ("YYYY-MM-DD");
// the owner is reminded on that date and the owner's admins told the day
// after if it is still not resolved.
func (s *Service) Assign(ctx context.Context, actor core.Actor, id int64, user, due string) (Problem, error) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(due), s.cal.Location())
	if err != nil {
		return Problem{}, core.Invalid("problem_due", "value", due)
	}
	return s.step(ctx, actor, id, "problem.assign", []string{StateNew, StateAnalysing, StateCauseFound}, func(tx stepper, p *Problem) error {
		today := s.clock.Now().In(s.cal.Location())
		if d.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.cal.Location())) {
			return core.Invalid("problem_due_past", "value", due)
		}
		u, err := paging.ActiveUser(ctx, tx, user)
		if err != nil {
			return err
		}
		p.Owner, p.Due = u.ID, &d
		return tx.Notify(ctx, core.Notice{Ref: p.Ref(), To: core.Recipient{User: u.ID},
			Body: Assigned{Problem: p.ID, Title: p.Title, Owner: u.ID, Due: d, Incident: p.Incident, By: actor.UserID}})
	})
}

// Analyse starts the analysis of a new problem (待分析 → 分析中); an
// unowned problem becomes the actor's.
func (s *Service) Analyse(ctx context.Context, actor core.Actor, id int64) (Problem, error) {
	return s.step(ctx, actor, id, "problem.analyse", []string{StateNew}, func(tx stepper, p *Problem) error {
		p.State = StateAnalysing
		if p.Owner == "" {
			p.Owner = actor.UserID
		}
		return nil
	})
}

// Cause records the root cause found (分析中 → 已找到根因).
func (s *Service) Cause(ctx context.Context, actor core.Actor, id int64, cause string) (Problem, error) {
	cause = strings.TrimSpace(cause)
	if cause == "" {
		return Problem{}, core.Invalid("problem_cause")
	}
	return s.step(ctx, actor, id, "problem.cause", []string{StateAnalysing}, func(tx stepper, p *Problem) error {
		p.State, p.Cause = StateCauseFound, cause
		return nil
	})
}

// Resolve marks the problem resolved by a change (已找到根因 → 已解决):
// change is the id of a change request (approval kind "change"), else ref
// a free reference to the fix. Its timers stop.
func (s *Service) Resolve(ctx context.Context, actor core.Actor, id, change int64, ref string) (Problem, error) {
	ref = strings.TrimSpace(ref)
	if (change == 0) == (ref == "") {
		return Problem{}, core.Invalid("problem_fix")
	}
	return s.step(ctx, actor, id, "problem.resolve", []string{StateCauseFound}, func(tx stepper, p *Problem) error {
		if change != 0 {
			kind, err := tx.RequestKind(ctx, change)
			if errors.Is(err, core.ErrNotFound) || (err == nil && kind != "change") {
				return core.NotFound("problem_change_not_found", "id", itoa(change))
			} else if err != nil {
				return err
			}
		}
		now := s.clock.Now()
		p.State, p.ChangeID, p.ChangeRef, p.ResolvedAt = StateResolved, change, ref, &now
		return nil
	})
}

// Close closes a resolved problem (已解决 → 已关闭).
func (s *Service) Close(ctx context.Context, actor core.Actor, id int64) (Problem, error) {
	return s.step(ctx, actor, id, "problem.close", []string{StateResolved}, func(tx stepper, p *Problem) error {
		now := s.clock.Now()
		p.State, p.ClosedAt = StateClosed, &now
		return nil
	})
}

// HandleTimer reminds the owner on the due date, or tells the owner's
// admins (the admins covering the owner's unit) the day after, of a
// problem still not resolved; once each.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(ptx Tx, t core.Timer) error {
		tx, err := stepTx(ptx)
		if err != nil {
			return err
		}
		pid, _ := t.RefID("problem:") // 0 for a bad ref: the problem is not found
		p, err := tx.Problem(ctx, pid)
		if err != nil {
			return err
		}
		if p.Done() || p.Due == nil || p.Owner == "" {
			return nil
		}
		n := Due{Problem: p.ID, Title: p.Title, State: p.State, Owner: p.Owner, Due: *p.Due, Overdue: t.Kind == TimerOverdue}
		to := []string{p.Owner}
		if n.Overdue {
			if to, err = org.AdminsOf(ctx, tx, p.Owner); err != nil {
				return err
			}
			if err := core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "problem.overdue", p.Ref(), nil, map[string]any{"owner": p.Owner, "admins": to}); err != nil {
				return err
			}
		}
		for _, u := range to {
			if err := tx.Notify(ctx, core.Notice{Ref: p.Ref(), To: core.Recipient{User: u}, Body: n}); err != nil {
				return err
			}
		}
		return nil
	})
}
