package dutytask

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/paging"
	"opsbot/core/routine"
)

// Service keeps recurring duties.
type Service struct {
	store Store
	clock core.Clock
	cal   routine.WorkingDays
}

// NewService returns the recurring-duty service; cal counts working days
// (the "first-working-day" rule).
func NewService(store Store, clock core.Clock, cal routine.WorkingDays) *Service {
	return &Service{store: store, clock: clock, cal: cal}
}

const dayLayout = "2006-01-02"

func (s *Service) daily() routine.Daily { return routine.Daily{At: RemindAt, Loc: s.cal.Location()} }

func occurrence(t Task) routine.Occurrence {
	return routine.Occurrence{Kind: TimerDue, Ref: t.Ref(), Key: map[string]string{"due": t.NextDue.Format(dayLayout)}}
}

// schedule replaces the duty's timers with the reminder of its next due
// date (Lead before it, at once when that has passed).
func (s *Service) schedule(ctx context.Context, tx Tx, t Task) error {
	if err := tx.CancelTimers(ctx, t.Ref(), TimerDue); err != nil {
		return err
	}
	at := s.daily().On(t.NextDue.Add(-Lead))
	if now := s.clock.Now(); at.Before(now) {
		at = now
	}
	return occurrence(t).Schedule(ctx, tx, routine.Remind, at)
}

func checkEvery(every string) error {
	if every != Month && every != Quarter && every != Year {
		return core.Invalid("duty_task_every", "value", every)
	}
	return nil
}

// checkOwner accepts a role or an active user.
func checkOwner(ctx context.Context, tx Tx, owner string) error {
	if org.Role(owner).Valid() {
		return nil
	}
	if _, err := paging.ActiveUser(ctx, tx, owner); err != nil {
		return core.NotFound("duty_task_owner", "value", owner)
	}
	return nil
}

// Add adds a recurring duty; operators and sys admins may.
func (s *Service) Add(ctx context.Context, actor core.Actor, name, every, owner, rule string) (Task, error) {
	name, every, owner = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(every)), strings.TrimSpace(owner)
	if err := core.CheckName("name", name, core.MaxTitle); err != nil {
		return Task{}, err
	}
	if err := checkEvery(every); err != nil {
		return Task{}, err
	}
	r, err := ParseRule(every, rule)
	if err != nil {
		return Task{}, err
	}
	var t Task
	err = s.store.InTx(ctx, func(tx Tx) error {
		if actor.UserID != core.SystemUser {
			if err := routine.RequirePlatform(ctx, tx, actor.UserID, "duty_task_forbidden"); err != nil {
				return err
			}
		}
		if err := checkOwner(ctx, tx, owner); err != nil {
			return err
		}
		t, err = s.insert(ctx, tx, actor, Task{Name: name, Every: every, Owner: owner, DueRule: rule}, r)
		return err
	})
	return t, err
}

func (s *Service) insert(ctx context.Context, tx Tx, actor core.Actor, t Task, r Rule) (Task, error) {
	now := s.clock.Now()
	t.NextDue, t.CreatedBy, t.CreatedAt = NextDue(t.Every, r, s.cal, now), actor.UserID, now
	if err := tx.InsertDutyTask(ctx, &t); err != nil {
		return Task{}, err
	}
	if err := s.schedule(ctx, tx, t); err != nil {
		return Task{}, err
	}
	return t, core.Record(ctx, tx, now, actor, "duty_task.add", t.Ref(), nil, t)
}

// List lists the recurring duties by next due date.
func (s *Service) List(ctx context.Context) ([]Task, error) {
	var out []Task
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		out, err = tx.DutyTasks(ctx)
		return err
	})
	return out, err
}

// Done records the duty done for its current period: its owners (a
// role's holders), operators and sys admins may. The next period's due
// date follows.
func (s *Service) Done(ctx context.Context, actor core.Actor, id int64, note string) (Task, error) {
	var t Task
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if t, err = tx.DutyTask(ctx, id, true); errors.Is(err, core.ErrNotFound) {
			return core.NotFound("duty_task_not_found", "id", strconv.FormatInt(id, 10))
		} else if err != nil {
			return err
		}
		owners, err := routine.Resolve(ctx, tx, t.Owner)
		if err != nil {
			return err
		}
		if !slices.Contains(owners, actor.UserID) {
			if err := routine.RequirePlatform(ctx, tx, actor.UserID, "duty_task_forbidden"); err != nil {
				return err
			}
		}
		r, err := ParseRule(t.Every, t.DueRule)
		if err != nil {
			return err
		}
		before, now := t, s.clock.Now()
		t.LastDone, t.LastBy, t.LastNote = &now, actor.UserID, strings.TrimSpace(note)
		next := NextDue(t.Every, r, s.cal, t.NextDue.AddDate(0, 0, 1))
		if today := NextDue(t.Every, r, s.cal, now); next.Before(now) {
			next = today // periods missed while nothing was done: resume from today
		}
		t.NextDue = next
		if err := tx.UpdateDutyTask(ctx, t); err != nil {
			return err
		}
		if err := s.schedule(ctx, tx, t); err != nil {
			return err
		}
		return core.Record(ctx, tx, now, actor, "duty_task.done", t.Ref(), before, t)
	})
	return t, err
}

// HandleTimer fires a duty's timer, once: the reminder to its owners,
// then, the morning after the due date, the escalation.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx Tx, tm core.Timer) error {
		tid, err := tm.RefID("duty-task:")
		if err != nil {
			return fmt.Errorf("dutytask: %w", err)
		}
		t, err := tx.DutyTask(ctx, tid, true)
		if err != nil {
			return err
		}
		o := occurrence(t)
		owners, err := routine.Resolve(ctx, tx, t.Owner)
		if err != nil {
			return err
		}
		due := t.NextDue.Format(dayLayout)
		return routine.Step(ctx, tx, o, routine.StageOf(tm), s.daily().On(t.NextDue.AddDate(0, 0, 1)), routine.Chase{
			Done: tm.Data["due"] != due, // done since: the next period has its own timer
			Remind: func() error {
				return routine.Tell(ctx, tx, t.Ref(), owners, Due{Task: t.ID, Name: t.Name, Due: due, Owner: t.Owner})
			},
			Escalate: func() error {
				admins, err := routine.AdminsOf(ctx, tx, owners)
				if err != nil {
					return err
				}
				sys, err := tx.HoldersOf(ctx, org.RoleSysAdmin)
				if err != nil {
					return err
				}
				to := routine.Union(admins, sys)
				if err := routine.Tell(ctx, tx, t.Ref(), to, Overdue{Task: t.ID, Name: t.Name, Due: due, Owner: t.Owner, Owners: owners}); err != nil {
					return err
				}
				return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "duty_task.overdue", t.Ref(), nil, t)
			},
		})
	})
}

// Seed is one of the standards' recurring duties.
type Seed struct {
	Key, Name, Every, Owner, Rule string
}

// Seeds are the standards' recurring duties, added once at start.
var Seeds = []Seed{
	{Key: "w5.5d-disclosure-report", Name: "政务信息公开工作年度报告（W 5.5 d）", Every: Year, Owner: string(org.RoleSysAdmin), Rule: "01-31"},
	{Key: "w8.1e-training", Name: "运维人员技术培训和技能考核（W 8.1 e）", Every: Quarter, Owner: string(org.RoleOperator), Rule: "day 20"},
	{Key: "w8.2d-manual", Name: "操作手册修订（W 8.2 d）", Every: Year, Owner: string(org.RoleOperator), Rule: "12-15"},
	{Key: "w9.1k-plan-review", Name: "应急预案年度评估（W 9.1 k）", Every: Year, Owner: string(org.RoleSysAdmin), Rule: "12-31"},
}

// SeedDuties adds the standards' recurring duties that are missing, under
// the org's seed lock (replicas starting together add each once).
func (s *Service) SeedDuties(ctx context.Context) (added int, err error) {
	err = s.store.Exclusive(ctx, org.SeedLock, func(ctx context.Context) error {
		return s.store.InTx(ctx, func(tx Tx) error {
			for _, sd := range Seeds {
				ok, err := tx.DutyTaskSeeded(ctx, sd.Key)
				if err != nil || ok {
					if err != nil {
						return err
					}
					continue
				}
				r, err := ParseRule(sd.Every, sd.Rule)
				if err != nil {
					return err
				}
				if _, err := s.insert(ctx, tx, core.SystemActor(), Task{Name: sd.Name, Every: sd.Every, Owner: sd.Owner, DueRule: sd.Rule, SeedKey: sd.Key}, r); err != nil {
					return err
				}
				added++
			}
			return nil
		})
	})
	return added, err
}

// Overdue reports whether the duty's due day has passed at now.
func (t Task) Overdue(now time.Time, loc *time.Location) bool {
	return !now.In(loc).Before(t.NextDue.AddDate(0, 0, 1))
}
