package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/org"
)

// Config tunes incidents.
type Config struct {
	Channel  string // channel for every incident card ("" for none)
	Rotation string // rotation paged when no other matches
	Policy   Policy
}

// Service carries out incident and duty commands.
type Service struct {
	store  Store
	clock  core.Clock
	cal    *calendar.Calendar
	cfg    Config
	alerts AlertConfig
}

// NewService returns the incident service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, cfg Config) *Service {
	if cfg.Policy.Steps == nil {
		cfg.Policy = DefaultPolicy()
	}
	return &Service{store: store, clock: clock, cal: cal, cfg: cfg, alerts: AlertConfig{
		SeverityLevels: map[string]int{"critical": 2, "warning": 3, "info": 4}, LevelLabel: "level",
		ReopenWindow: 30 * time.Minute, UpdateEvery: 30 * time.Second, HTTPKindLabel: "kind", HTTPKindValue: "http_status",
		AppLabel: "app", Non200After: 10 * time.Minute,
	}}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func fmtSscanf(str, format string, a ...any) (int, error) {
	n, err := fmt.Sscanf(str, format, a...)
	if err != nil {
		return n, fmt.Errorf("incident: ref %q: %w", str, err)
	}
	return n, nil
}

func (s *Service) audit(ctx context.Context, tx Tx, actor core.Actor, action string, i Incident, before any) error {
	return tx.Audit(ctx, core.Change(s.clock.Now(), actor, action, i.Ref(), before, i))
}

func activeUser(ctx context.Context, tx Tx, id string) (org.User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return org.User{}, core.NotFound("user_not_found", "id", id)
	}
	if err != nil {
		return org.User{}, err
	}
	if u.Removed {
		return org.User{}, core.NotFound("user_removed", "id", id)
	}
	return u, nil
}

// shift returns who is on duty on a rotation now.
func (s *Service) shift(ctx context.Context, tx Tx, name string) (duty.Rotation, duty.Shift, error) {
	r, err := tx.Rotation(ctx, name)
	if errors.Is(err, core.ErrNotFound) {
		return r, duty.Shift{}, core.NotFound("rotation_not_found", "name", name)
	}
	if err != nil {
		return r, duty.Shift{}, err
	}
	over, err := tx.Overrides(ctx, name)
	if err != nil {
		return r, duty.Shift{}, err
	}
	return r, r.ShiftAt(s.clock.Now(), s.cal, over), nil
}

// rotationFor picks the rotation that covers unit (the one whose unit is
// the nearest ancestor), else the configured default.
func (s *Service) rotationFor(ctx context.Context, tx Tx, unit string) (string, error) {
	best, bestLen := s.cfg.Rotation, -1
	if unit == "" {
		return best, nil
	}
	u, err := tx.Unit(ctx, unit)
	if err != nil {
		return best, nil
	}
	rs, err := tx.Rotations(ctx)
	if err != nil {
		return "", err
	}
	for _, r := range rs {
		ru, err := tx.Unit(ctx, r.Unit)
		if err == nil && ru.Contains(u) && len(ru.Path) > bestLen {
			best, bestLen = r.Name, len(ru.Path)
		}
	}
	return best, nil
}

// targets resolves escalation target names to users.
func (s *Service) targets(ctx context.Context, tx Tx, i Incident, names []string) ([]string, error) {
	var out []string
	add := func(u string) {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	var shift duty.Shift
	if i.Rotation != "" {
		if _, sh, err := s.shift(ctx, tx, i.Rotation); err == nil {
			shift = sh
		}
	}
	unit, _ := tx.Unit(ctx, i.Unit)
	for _, n := range names {
		switch n {
		case "primary":
			add(shift.Primary)
		case "secondary":
			add(shift.Secondary)
		default:
			grants, err := tx.Holders(ctx, org.Role(n))
			if err != nil {
				return nil, err
			}
			for _, g := range grants {
				scope, err := tx.Unit(ctx, g.Scope)
				if err == nil && (i.Unit == "" || scope.Contains(unit) || g.Role == org.RoleSysAdmin || g.Role == org.RoleOperator) {
					add(g.UserID)
				}
			}
		}
	}
	return out, nil
}

func (s *Service) card(i Incident, extra map[string]string) map[string]string {
	d := map[string]string{"id": itoa(i.ID), "title": i.Title, "level": strconv.Itoa(i.Level), "state": i.State,
		"system": i.System, "unit": i.Unit, "owner": i.Owner, "declared_by": i.DeclaredBy, "rotation": i.Rotation,
		"escalation": strconv.Itoa(i.Escalation), "created_at": i.CreatedAt.In(s.cal.Location()).Format("2006-01-02 15:04"),
		"summary": i.Summary}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// notify sends a notice to users and, when channel is set, to the
// incident's channel.
func (s *Service) notify(ctx context.Context, tx Tx, kind, ref string, users []string, channel string, data map[string]string) error {
	for _, u := range users {
		if err := tx.Notify(ctx, core.Notice{Ref: ref, To: core.Recipient{User: u}, Body: core.Legacy{Kind: kind, Data: data}}); err != nil {
			return err
		}
	}
	if channel != "" {
		return tx.Notify(ctx, core.Notice{Ref: ref, To: core.Recipient{Channel: channel}, Body: core.Legacy{Kind: kind, Data: data}})
	}
	return nil
}

// channelOf is where an incident's cards and events go.
func (s *Service) channelOf(i Incident) string {
	if i.Channel != "" {
		return i.Channel
	}
	return s.cfg.Channel
}

// liveCard is card plus, for an open level 1–2 incident, who is on duty
// until it closes (W 9.3: 24-hour duty).
func (s *Service) liveCard(ctx context.Context, tx Tx, i Incident, extra map[string]string) map[string]string {
	d := s.card(i, extra)
	if i.Level <= 2 && i.Open() && i.Rotation != "" {
		if r, sh, err := s.shift(ctx, tx, i.Rotation); err == nil {
			over, _ := tx.Overrides(ctx, i.Rotation)
			next := r.ShiftAt(sh.End, s.cal, over)
			d["on_duty"] = sh.Primary + "、" + sh.Secondary
			d["next_duty"] = next.Primary
		}
	}
	return d
}

// refresh replaces every card of the incident with its current state.
func (s *Service) refresh(ctx context.Context, tx Tx, i Incident) error {
	return tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.liveCard(ctx, tx, i, nil)}})
}

// broadcast tells the stakeholders (and the channel) about an event.
func (s *Service) broadcast(ctx context.Context, tx Tx, i Incident, actor core.Actor, kind, body string) error {
	data := s.card(i, map[string]string{"event": kind, "body": body, "by": actor.UserID, "by_name": actor.Name})
	var to []string
	for _, u := range append([]string{i.Owner, i.DeclaredBy}, i.Stakeholders...) {
		if u != "" && u != actor.UserID && !slices.Contains(to, u) {
			to = append(to, u)
		}
	}
	return s.notify(ctx, tx, NoticeEvent, i.Ref(), to, s.channelOf(i), data)
}

func (s *Service) addStakeholders(i *Incident, users ...string) {
	for _, u := range users {
		if u != "" && !slices.Contains(i.Stakeholders, u) {
			i.Stakeholders = append(i.Stakeholders, u)
		}
	}
}

// scheduleEscalation sets the timer of step n (if the policy has it).
func (s *Service) scheduleEscalation(ctx context.Context, tx Tx, i Incident, n int) error {
	steps := s.cfg.Policy.Steps[i.Level]
	if n >= len(steps) {
		if !s.cfg.Policy.Repeat || len(steps) < 2 {
			return nil
		}
		n = len(steps) - 1
	}
	prev := time.Duration(0)
	if n > 0 && n-1 < len(steps) {
		prev = steps[n-1].After
	}
	wait := steps[n].After - prev
	if wait <= 0 {
		wait = steps[n].After
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerEscalation, Ref: i.Ref(), DueAt: s.clock.Now().Add(wait), Data: map[string]string{"step": strconv.Itoa(n)}})
}

func (s *Service) scheduleProgress(ctx context.Context, tx Tx, i Incident, missed bool) error {
	every := s.cfg.Policy.Progress[i.Level]
	if every <= 0 {
		return nil
	}
	if err := tx.CancelTimers(ctx, i.Ref(), TimerProgress); err != nil {
		return err
	}
	due, data := s.clock.Now().Add(every), map[string]string{}
	if missed {
		// The owner was reminded; a report still missing by half an interval is escalated.
		due, data["missed"] = s.clock.Now().Add(every/2), "1"
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerProgress, Ref: i.Ref(), DueAt: due, Data: data})
}

// open stores a new incident: its first escalation step's people become
// its owner and stakeholders, and its timeline starts with the declaration.
func (s *Service) open(ctx context.Context, tx Tx, inc *Incident, by, body string) (first []string, err error) {
	if first, err = s.targets(ctx, tx, *inc, s.cfg.Policy.Steps[inc.Level][0].Notify); err != nil {
		return nil, err
	}
	if len(first) > 0 {
		inc.Owner = first[0]
	}
	s.addStakeholders(inc, first...)
	if err := tx.InsertIncident(ctx, inc); err != nil {
		return nil, err
	}
	return first, tx.InsertEvent(ctx, inc.ID, Event{At: inc.CreatedAt, Actor: by, Kind: "declare", Body: body})
}

// startClocks schedules an open incident's next escalation step and progress reminder.
func (s *Service) startClocks(ctx context.Context, tx Tx, inc Incident) error {
	if err := s.scheduleEscalation(ctx, tx, inc, 1); err != nil {
		return err
	}
	return s.scheduleProgress(ctx, tx, inc, false)
}

// Declare opens an incident and pages whoever is on duty.
func (s *Service) Declare(ctx context.Context, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	var inc Incident
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		inc, err = s.declareIn(ctx, tx, actor, title, level, system, unit)
		return err
	})
	return inc, err
}

// DeclareIn opens an incident inside tx, so another change (an inspection
// item marked Issue, a failed backup) and its incident commit together.
// The system actor may declare. tx is the other domain's transaction; it
// must implement this package's Tx port as well (the store's does).
func (s *Service) DeclareIn(ctx context.Context, tx core.Tx, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	itx, ok := tx.(Tx)
	if !ok {
		return Incident{}, fmt.Errorf("incident: declare in a %T, which is no incident transaction", tx)
	}
	return s.declareIn(ctx, itx, actor, title, level, system, unit)
}

func (s *Service) declareIn(ctx context.Context, tx Tx, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	title = strings.TrimSpace(title)
	if title == "" || len([]rune(title)) > maxTitle {
		return Incident{}, core.Invalid("name", "field", "title", "value", title)
	}
	if level < 1 || level > 4 {
		return Incident{}, core.Invalid("incident_level", "value", strconv.Itoa(level))
	}
	var inc Incident
	err := func() error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil && actor.UserID != core.SystemUser {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		if unit != "" {
			if u, err := tx.Unit(ctx, unit); err != nil || u.Removed {
				return core.NotFound("unit_not_found", "code", unit)
			}
		}
		if system != "" {
			if _, err := tx.App(ctx, system); errors.Is(err, core.ErrNotFound) {
				return core.NotFound("app_not_found", "code", system)
			} else if err != nil {
				return err
			}
		}
		rot, err := s.rotationFor(ctx, tx, unit)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		inc = Incident{Title: title, Level: level, State: StateDeclared, System: system, Unit: unit, Rotation: rot,
			DeclaredBy: actor.UserID, CreatedAt: now, LastUpdateAt: now}
		first, err := s.open(ctx, tx, &inc, actor.UserID, title)
		if err != nil {
			return err
		}
		if err := s.notify(ctx, tx, NoticeCard, inc.CardRef(), first, s.channelOf(inc), s.liveCard(ctx, tx, inc, nil)); err != nil {
			return err
		}
		if level <= 2 && rot != "" {
			// Level 1–2 need 24-hour duty until closure: tell the next people.
			if _, sh, err := s.shift(ctx, tx, rot); err == nil {
				r, _ := tx.Rotation(ctx, rot)
				over, _ := tx.Overrides(ctx, rot)
				next := r.ShiftAt(sh.End, s.cal, over)
				to := []string{}
				for _, u := range []string{sh.Secondary, next.Primary} {
					if u != "" && u != inc.Owner && !slices.Contains(to, u) {
						to = append(to, u)
					}
				}
				if err := s.notify(ctx, tx, NoticeDuty24, inc.Ref(), to, "", s.card(inc, map[string]string{"on_duty": sh.Primary + "," + strings.Join(to, ",")})); err != nil {
					return err
				}
			}
		}
		if err := s.startClocks(ctx, tx, inc); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "incident.declare", inc, nil)
	}()
	return inc, err
}

// change loads an incident under lock, applies fn and records the event.
func (s *Service) change(ctx context.Context, actor core.Actor, id int64, action string, fn func(tx Tx, i *Incident) (event, body string, err error)) (Incident, error) {
	var out Incident
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		i, err := tx.Incident(ctx, id, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("incident_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		before := i
		event, body, err := fn(tx, &i)
		if err != nil {
			return err
		}
		if err := tx.UpdateIncident(ctx, i); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: actor.UserID, Kind: event, Body: body}); err != nil {
			return err
		}
		if err := s.refresh(ctx, tx, i); err != nil {
			return err
		}
		if err := s.broadcast(ctx, tx, i, actor, event, body); err != nil {
			return err
		}
		out = i
		return s.audit(ctx, tx, actor, action, i, before)
	})
	return out, err
}

func notClosed(i *Incident) error {
	if i.State == StateClosed {
		return core.Conflict("incident_closed", "id", itoa(i.ID))
	}
	return nil
}

func stillOpen(i *Incident) error {
	if !i.Open() {
		return core.Conflict("incident_not_open", "id", itoa(i.ID), "istate", i.State)
	}
	return nil
}

// Ack acknowledges an incident: the pending escalation steps are cancelled.
func (s *Service) Ack(ctx context.Context, actor core.Actor, id int64) (Incident, error) {
	return s.change(ctx, actor, id, "incident.ack", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		if i.State != StateDeclared {
			return "", "", core.AlreadyDecided("incident_acked", "id", itoa(i.ID), "by", i.Owner,
				"at", i.AckedAt.In(s.cal.Location()).Format("2006-01-02 15:04"))
		}
		now := s.clock.Now()
		i.State, i.AckedAt, i.Owner = StateAcknowledged, &now, actor.UserID
		s.addStakeholders(i, actor.UserID)
		return "ack", "", tx.CancelTimers(ctx, i.Ref(), TimerEscalation)
	})
}

// Assign hands the incident to a user.
func (s *Service) Assign(ctx context.Context, actor core.Actor, id int64, user string) (Incident, error) {
	return s.change(ctx, actor, id, "incident.assign", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		u, err := activeUser(ctx, tx, user)
		if err != nil {
			return "", "", err
		}
		i.Owner = u.ID
		s.addStakeholders(i, u.ID)
		return "assign", u.ID, tx.Notify(ctx, core.Notice{Ref: i.CardRef(), To: core.Recipient{User: u.ID}, Body: core.Legacy{Kind: NoticeCard, Data: s.liveCard(ctx, tx, *i, map[string]string{"assigned_by": actor.UserID})}})
	})
}

// Update posts a progress report: broadcast to the stakeholders, and the
// next report is due one interval later.
func (s *Service) Update(ctx context.Context, actor core.Actor, id int64, text string) (Incident, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Incident{}, core.Invalid("update_text")
	}
	return s.change(ctx, actor, id, "incident.update", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		i.LastUpdateAt = s.clock.Now()
		s.addStakeholders(i, actor.UserID)
		return "update", text, s.scheduleProgress(ctx, tx, *i, false)
	})
}

// SetLevel regrades an incident; its escalation and reminders follow the new level.
func (s *Service) SetLevel(ctx context.Context, actor core.Actor, id int64, level int) (Incident, error) {
	if level < 1 || level > 4 {
		return Incident{}, core.Invalid("incident_level", "value", strconv.Itoa(level))
	}
	return s.change(ctx, actor, id, "incident.level", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		from := i.Level
		i.Level = level
		if err := s.scheduleProgress(ctx, tx, *i, false); err != nil {
			return "", "", err
		}
		if i.State == StateDeclared {
			if err := tx.CancelTimers(ctx, i.Ref(), TimerEscalation); err != nil {
				return "", "", err
			}
			if err := s.scheduleEscalation(ctx, tx, *i, i.Escalation+1); err != nil {
				return "", "", err
			}
		}
		return "level", strconv.Itoa(from) + "→" + strconv.Itoa(level), nil
	})
}

// Escalate moves the incident to its next escalation step now.
func (s *Service) Escalate(ctx context.Context, actor core.Actor, id int64) (Incident, error) {
	return s.change(ctx, actor, id, "incident.escalate", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		to, err := s.escalate(ctx, tx, i)
		return "escalate", strings.Join(to, ","), err
	})
}

// escalate notifies the next step's targets and schedules the one after.
func (s *Service) escalate(ctx context.Context, tx Tx, i *Incident) ([]string, error) {
	steps := s.cfg.Policy.Steps[i.Level]
	n := i.Escalation + 1
	if n >= len(steps) {
		n = len(steps) - 1
	}
	to, err := s.targets(ctx, tx, *i, steps[n].Notify)
	if err != nil {
		return nil, err
	}
	i.Escalation = n
	s.addStakeholders(i, to...)
	if err := s.notify(ctx, tx, NoticeCard, i.CardRef(), to, "", s.liveCard(ctx, tx, *i, map[string]string{"escalated": "1"})); err != nil {
		return nil, err
	}
	if err := tx.CancelTimers(ctx, i.Ref(), TimerEscalation); err != nil {
		return nil, err
	}
	if i.State == StateDeclared {
		return to, s.scheduleEscalation(ctx, tx, *i, n+1)
	}
	return to, nil
}

// Mitigate marks the impact contained.
func (s *Service) Mitigate(ctx context.Context, actor core.Actor, id int64, text string) (Incident, error) {
	return s.change(ctx, actor, id, "incident.mitigate", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		now := s.clock.Now()
		if i.AckedAt == nil {
			i.AckedAt = &now
		}
		i.State, i.MitigatedAt = StateMitigated, &now
		return "mitigate", text, tx.CancelTimers(ctx, i.Ref(), TimerEscalation)
	})
}

// Resolve marks the incident resolved; escalation and reminders stop. It
// closes only after a review.
func (s *Service) Resolve(ctx context.Context, actor core.Actor, id int64, summary string) (Incident, error) {
	summary = strings.TrimSpace(summary)
	if summary == "" {
		return Incident{}, core.Invalid("resolve_summary")
	}
	return s.change(ctx, actor, id, "incident.resolve", func(tx Tx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		now := s.clock.Now()
		if i.AckedAt == nil {
			i.AckedAt = &now
		}
		i.State, i.ResolvedAt, i.Summary = StateResolved, &now, summary
		if i.Owner == "" {
			i.Owner = actor.UserID
		}
		return "resolve", summary, tx.CancelTimers(ctx, i.Ref(), "")
	})
}

// Review records the cause and the improvement actions of a resolved
// incident and closes it (W 9.4).
func (s *Service) Review(ctx context.Context, actor core.Actor, id int64, cause, actions string) (Incident, error) {
	cause, actions = strings.TrimSpace(cause), strings.TrimSpace(actions)
	if cause == "" || actions == "" {
		return Incident{}, core.Invalid("review_fields")
	}
	items, err := ParseActions(actions, s.cal.Location())
	if err != nil {
		return Incident{}, err
	}
	return s.change(ctx, actor, id, "incident.review", func(tx Tx, i *Incident) (string, string, error) {
		if err := notClosed(i); err != nil {
			return "", "", err
		}
		if i.State != StateResolved {
			return "", "", core.Conflict("review_before_resolve", "id", itoa(i.ID), "istate", i.State)
		}
		for k := range items {
			a := &items[k]
			if _, err := activeUser(ctx, tx, a.Owner); err != nil {
				return "", "", err
			}
			a.IncidentID = i.ID
			if err := tx.InsertAction(ctx, a); err != nil {
				return "", "", err
			}
			m, _ := time.Parse("15:04", "09:00")
			due := time.Date(a.Due.Year(), a.Due.Month(), a.Due.Day(), m.Hour(), m.Minute(), 0, 0, s.cal.Location())
			if err := tx.Schedule(ctx, core.Timer{Kind: TimerActionDue, Ref: i.Ref() + "/action:" + itoa(a.ID), DueAt: due,
				Data: map[string]string{"action": itoa(a.ID), "incident": itoa(i.ID)}}); err != nil {
				return "", "", err
			}
		}
		now := s.clock.Now()
		i.State, i.ClosedAt, i.Cause, i.Actions = StateClosed, &now, cause, actions
		body := cause + " / " + actions
		if p, err := s.proposeProblem(ctx, tx, *i); err != nil {
			return "", "", err
		} else if p != nil {
			body += " / problem #" + itoa(p.ID)
		}
		return "review", body, nil
	})
}

// Detail is an incident with its timeline.
type Detail struct {
	Incident Incident
	Events   []Event
	Actions  []Action
	Problem  int64
	OnDuty   duty.Shift
}

// Show returns an incident with its timeline.
func (s *Service) Show(ctx context.Context, actor core.Actor, id int64) (Detail, error) {
	var d Detail
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		i, err := tx.Incident(ctx, id, false)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("incident_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		d.Incident = i
		if i.Rotation != "" {
			if _, sh, err := s.shift(ctx, tx, i.Rotation); err == nil {
				d.OnDuty = sh
			}
		}
		if d.Events, err = tx.Events(ctx, id); err != nil {
			return err
		}
		if d.Actions, err = tx.Actions(ctx, id); err != nil {
			return err
		}
		d.Problem, err = tx.ProblemOf(ctx, id)
		return err
	})
	return d, err
}

// Policy returns the escalation policy in force.
func (s *Service) Policy() Policy { return s.cfg.Policy }

// List returns recent incidents, only open ones when open is set.
func (s *Service) List(ctx context.Context, actor core.Actor, open bool) ([]Incident, error) {
	var out []Incident
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := activeUser(ctx, tx, actor.UserID); err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		var err error
		out, err = tx.Incidents(ctx, open, 50)
		return err
	})
	return out, err
}

// actionDue reminds an open review action's owner on its due date.
func (s *Service) actionDue(ctx context.Context, tx Tx, incidentID int64, t core.Timer) error {
	actions, err := tx.Actions(ctx, incidentID)
	if err != nil {
		return err
	}
	for _, a := range actions {
		if itoa(a.ID) != t.Data["action"] || a.Done {
			continue
		}
		i, err := tx.Incident(ctx, incidentID, false)
		if err != nil {
			return err
		}
		data := s.card(i, map[string]string{"action": a.Body, "due": a.Due.Format("2006-01-02"), "action_owner": a.Owner})
		return tx.Notify(ctx, core.Notice{Ref: i.Ref(), To: core.Recipient{User: a.Owner}, Body: core.Legacy{Kind: NoticeActionDue, Data: data}})
	}
	return nil
}

// HandleTimer fires an escalation step, a progress reminder or a review
// action's due reminder, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		t, ok, err := tx.ClaimTimer(ctx, id, s.clock.Now())
		if err != nil || !ok {
			return err
		}
		var iid int64
		if _, err := fmt.Sscanf(t.Ref, "incident:%d", &iid); err != nil {
			return fmt.Errorf("incident: timer %d has ref %q: %w", id, t.Ref, err)
		}
		if t.Kind == TimerActionDue {
			return s.actionDue(ctx, tx, iid, t)
		}
		i, err := tx.Incident(ctx, iid, true)
		if err != nil {
			return err
		}
		if !i.Open() {
			return nil
		}
		sys := core.SystemActor()
		switch t.Kind {
		case TimerEscalation:
			if i.State != StateDeclared {
				return nil
			}
			before := i
			to, err := s.escalate(ctx, tx, &i)
			if err != nil {
				return err
			}
			if err := tx.UpdateIncident(ctx, i); err != nil {
				return err
			}
			if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: sys.UserID, Kind: "escalate", Body: strings.Join(to, ",")}); err != nil {
				return err
			}
			if err := s.refresh(ctx, tx, i); err != nil {
				return err
			}
			return s.audit(ctx, tx, sys, "incident.escalate", i, before)
		case TimerProgress:
			data := s.card(i, map[string]string{"last_update": i.LastUpdateAt.In(s.cal.Location()).Format("2006-01-02 15:04")})
			if t.Data["missed"] == "1" {
				// Still no report: escalate the silence to the admins.
				to, err := s.targets(ctx, tx, i, []string{"unit_admin", "sys_admin"})
				if err != nil {
					return err
				}
				if err := s.notify(ctx, tx, NoticeOverdue, i.Ref(), to, s.channelOf(i), data); err != nil {
					return err
				}
				if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: sys.UserID, Kind: "report_overdue", Body: strings.Join(to, ",")}); err != nil {
					return err
				}
				return s.scheduleProgress(ctx, tx, i, false)
			}
			owner := i.Owner
			if owner == "" {
				owner = i.DeclaredBy
			}
			if err := s.notify(ctx, tx, NoticeProgress, i.Ref(), []string{owner}, "", data); err != nil {
				return err
			}
			return s.scheduleProgress(ctx, tx, i, true)
		}
		return nil
	})
}
