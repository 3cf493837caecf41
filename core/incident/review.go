package incident

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Action is an improvement action of a review, with an owner and a due date.
type Action struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	Body       string    `json:"body"`
	Owner      string    `json:"owner"`
	Due        time.Time `json:"due"`
	Done       bool      `json:"done"`
}

// Overdue reports whether the action is open after its due date (at now).
func (a Action) Overdue(now time.Time) bool {
	d := a.Due.In(now.Location())
	return !a.Done && now.After(time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, now.Location()))
}

// OpenAction is an action not done yet with what places its incident in
// an actor's view (org.View.Keeps: unit, declarer, owner).
type OpenAction struct {
	Action
	Unit, DeclaredBy, IncidentOwner string
}

// ParseActions parses "text@owner@YYYY-MM-DD; text@owner@YYYY-MM-DD".
func ParseActions(s string, loc *time.Location) ([]Action, error) {
	var out []Action
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == '\n' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "@")
		if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" {
			return nil, core.Invalid("action_format", "value", item)
		}
		due, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(parts[2]), loc)
		if err != nil {
			return nil, core.Invalid("action_format", "value", item)
		}
		out = append(out, Action{Body: strings.TrimSpace(parts[0]), Owner: strings.TrimSpace(parts[1]), Due: due})
	}
	if len(out) == 0 {
		return nil, core.Invalid("review_fields")
	}
	return out, nil
}

// Review records the cause and the improvement actions of a resolved
// incident and closes it (W 9.4). Each action's owner is reminded at 09:00
// on its due date; the third incident with the same system and cause in
// 30 days proposes a problem (W 8.5).
func (s *Service) Review(ctx context.Context, actor core.Actor, id int64, cause, actions string) (Incident, error) {
	cause, actions = strings.TrimSpace(cause), strings.TrimSpace(actions)
	if cause == "" || actions == "" {
		return Incident{}, core.Invalid("review_fields")
	}
	items, err := ParseActions(actions, s.cal.Location())
	if err != nil {
		return Incident{}, err
	}
	return s.change(ctx, actor, id, "incident.review", func(tx WriteTx, i *Incident) (string, string, error) {
		if err := notClosed(i); err != nil {
			return "", "", err
		}
		if i.State != StateResolved {
			return "", "", core.Conflict("review_before_resolve", "id", itoa(i.ID), "istate", i.State)
		}
		for k := range items {
			a := &items[k]
			if _, err := paging.ActiveUser(ctx, tx, a.Owner); err != nil {
				return "", "", err
			}
			a.IncidentID = i.ID
			if err := tx.InsertAction(ctx, a); err != nil {
				return "", "", err
			}
			due := time.Date(a.Due.Year(), a.Due.Month(), a.Due.Day(), 9, 0, 0, 0, s.cal.Location())
			data := map[string]string{"action": itoa(a.ID), "incident": itoa(i.ID)}
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerActionDue, Ref: i.Ref() + "/action:" + itoa(a.ID), DueAt: due, Data: data}); err != nil {
				return "", "", err
			}
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerActionOverdue, Ref: i.Ref() + "/action:" + itoa(a.ID), DueAt: due.AddDate(0, 0, 1), Data: data}); err != nil {
				return "", "", err
			}
		}
		now := s.clock.Now()
		i.State, i.ClosedAt, i.Cause, i.Actions = StateClosed, &now, cause, actions
		body := cause + " / " + actions
		if s.deps.Problems != nil {
			if p, err := s.deps.Problems.ProposeIn(ctx, tx, *i); err != nil {
				return "", "", err
			} else if p != 0 {
				body += " / problem #" + itoa(p)
			}
		}
		return "review", body, nil
	})
}

// HandleActionDue reminds an open review action's owner on its due date, once.
func (s *Service) HandleActionDue(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx WriteTx, t core.Timer) error {
		atx, err := actionsOf(tx)
		if err != nil {
			return err
		}
		a, i, open, err := timerAction(ctx, atx, tx, t)
		if err != nil || !open {
			return err
		}
		return tx.Notify(ctx, core.Notice{Ref: i.Ref(), To: core.Recipient{User: a.Owner},
			Body: ActionDue{Brief: BriefOf(i), Action: a.Body, Due: a.Due, ActionOwner: a.Owner}})
	})
}

// actionsOf is tx's review actions (a store whose transactions keep none
// is a wiring error).
func actionsOf(tx WriteTx) (ActionTx, error) {
	atx, ok := tx.(ActionTx)
	if !ok {
		return nil, errors.New("incident: the store's transaction keeps no review actions")
	}
	return atx, nil
}

// timerAction returns the review action an action timer is about and
// its incident; open is false when the action is done or gone.
func timerAction(ctx context.Context, atx interface {
	Actions(ctx context.Context, incidentID int64) ([]Action, error)
}, itx interface {
	Incident(ctx context.Context, id int64, lock bool) (Incident, error)
}, t core.Timer) (a Action, i Incident, open bool, err error) {
	iid, err := incidentOf(t)
	if err != nil {
		return a, i, false, err
	}
	actions, err := atx.Actions(ctx, iid)
	if err != nil {
		return a, i, false, err
	}
	k := slices.IndexFunc(actions, func(a Action) bool { return itoa(a.ID) == t.Data["action"] && !a.Done })
	if k < 0 {
		return a, i, false, nil
	}
	i, err = itx.Incident(ctx, iid, false)
	return actions[k], i, err == nil, err
}

// ActionDone marks the n-th action (from 1, as the incident page lists
// them) of an incident's review done. Its owner may, and whoever has
// authority over the incident (its owner, operators, sys admins, the
// admins covering its unit); audited and noted on the timeline.
func (s *Service) ActionDone(ctx context.Context, actor core.Actor, id int64, n int) (Action, error) {
	var out Action
	err := s.store.InTx(ctx, func(wtx WriteTx) error {
		tx := wtx
		atx, err := actionsOf(wtx)
		if err != nil {
			return err
		}
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		i, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		actions, err := atx.Actions(ctx, id)
		if err != nil {
			return err
		}
		if n < 1 || n > len(actions) {
			return core.NotFound("action_not_found", "id", itoa(id), "n", strconv.Itoa(n))
		}
		a := actions[n-1]
		if a.Done {
			return core.AlreadyDecided("action_done_already", "id", itoa(id), "n", strconv.Itoa(n))
		}
		if actor.UserID != a.Owner {
			if err := s.authorize(ctx, tx, actor, i); err != nil {
				return core.Forbidden("action_not_owner", "id", itoa(id), "n", strconv.Itoa(n), "owner", a.Owner)
			}
		}
		done, err := atx.ActionDone(ctx, a.ID, actor.UserID, s.clock.Now())
		if err != nil {
			return err
		}
		if !done {
			return core.AlreadyDecided("action_done_already", "id", itoa(id), "n", strconv.Itoa(n))
		}
		before := a
		a.Done = true
		out = a
		if err := tx.CancelTimers(ctx, i.Ref()+"/action:"+itoa(a.ID), ""); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: actor.UserID, Kind: "action_done", Body: strconv.Itoa(n) + ". " + a.Body}); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "incident.action.done", i.Ref()+"/action:"+itoa(a.ID), before, a)
	})
	return out, err
}

// HandleActionOverdue tells the admins covering an action's owner's unit
// (org.AdminsOf) that it is still open the day after its due date, once.
func (s *Service) HandleActionOverdue(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(wtx WriteTx, t core.Timer) error {
		tx := wtx
		atx, err := actionsOf(wtx)
		if err != nil {
			return err
		}
		a, i, open, err := timerAction(ctx, atx, tx, t)
		if err != nil || !open {
			return err
		}
		admins, err := org.AdminsOf(ctx, tx, a.Owner)
		if err != nil {
			return err
		}
		for _, u := range admins {
			if err := tx.Notify(ctx, core.Notice{Ref: i.Ref(), To: core.Recipient{User: u},
				Body: ActionOverdue{Brief: BriefOf(i), Action: a.Body, Due: a.Due, ActionOwner: a.Owner}}); err != nil {
				return err
			}
		}
		if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: core.SystemUser, Kind: "action_overdue", Body: a.Body + " → " + strings.Join(admins, ",")}); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), core.SystemActor(), "incident.action.overdue", i.Ref()+"/action:"+itoa(a.ID), nil, map[string]any{"owner": a.Owner, "admins": admins})
	})
}
