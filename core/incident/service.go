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
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Config tunes incidents.
type Config struct {
	Channel  string // channel for every incident card ("" for none)
	Rotation string // rotation paged when no other matches
	Policy   Policy
}

// Deps are the other domains incidents need, each a one-method interface.
type Deps struct {
	Roster   Roster          // who is on duty (duty.Service)
	Coverer  Coverer         // which rotation covers a unit (duty.Service)
	Problems ProblemProposer // the problem proposed on a repeat (problem.Proposer); nil: none
	Major    MajorProposer   // the problem proposed when a level I/II incident is resolved (problem.Proposer); nil: none
	Watcher  Watcher         // hears of every audited change (emergency.Reporter); nil: none
	Pager    Pager           // pages people beyond chat by their rules (paging.Service); nil: chat only
}

// Pager pages an incident's people beyond chat (SMS, voice, e-mail) by
// their notification rules, inside the declaring or escalating
// transaction; acknowledging cancels its pending steps.
type Pager interface {
	Page(ctx context.Context, tx core.Tx, inc paging.Incident) error
}

// page starts paging users about i beyond chat (when a pager is wired).
func (s *Service) page(ctx context.Context, tx core.Tx, i Incident, users []string) error {
	if s.deps.Pager == nil || len(users) == 0 {
		return nil
	}
	return s.deps.Pager.Page(ctx, tx, paging.Incident{ID: i.ID, Level: i.Level, Title: i.Title, Users: users})
}

// stopPaging cancels the pending page steps and retries of i.
func stopPaging(ctx context.Context, tx core.Tx, i Incident) error {
	if err := tx.CancelTimers(ctx, i.Ref(), paging.TimerStep); err != nil {
		return err
	}
	return tx.CancelTimers(ctx, i.Ref(), paging.TimerSend)
}

// Watcher hears of every audited change of an incident inside the
// change's transaction (the continuous reports to superiors, W 9.3 f);
// before is the incident before the change, nil when declared.
type Watcher interface {
	Changed(ctx context.Context, tx core.Tx, actor core.Actor, action string, i Incident, before any) error
}

// AlertCards reads what an alert incident's card shows of its
// Alertmanager group (alert.Service), inside tx; nil when it has none.
type AlertCards interface {
	CardState(ctx context.Context, tx core.Tx, incidentID int64) *AlertState
}

// Service carries out the incident lifecycle.
type Service struct {
	store  Store
	clock  core.Clock
	cal    *calendar.Calendar
	cfg    Config
	deps   Deps
	alerts AlertCards
	// lists shares the reads of a page of the list among the commands
	// asking for it at once, each answered by a read begun after it asked.
	lists *core.Batcher[listKey, []Line]
}

// listKey is what a read of the list reads: only open incidents or all,
// and how many.
type listKey struct {
	open  bool
	limit int
}

// SetAlerts lets every card of an alert incident show its group (counts,
// labels, silence buttons), also those a person's change refreshes: the
// alert service is built after the incident service it drives.
func (s *Service) SetAlerts(a AlertCards) { s.alerts = a }

// NewService returns the incident service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, cfg Config, deps Deps) *Service {
	if cfg.Policy.Steps == nil {
		cfg.Policy = DefaultPolicy()
	}
	s := &Service{store: store, clock: clock, cal: cal, cfg: cfg, deps: deps}
	s.lists = core.NewSharedReads(s.readList)
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Service) record(ctx context.Context, tx core.Tx, actor core.Actor, action string, i Incident, before any) error {
	if err := core.Record(ctx, tx, s.clock.Now(), actor, action, i.Ref(), before, i); err != nil {
		return err
	}
	if s.deps.Watcher != nil {
		return s.deps.Watcher.Changed(ctx, tx, actor, action, i, before)
	}
	return nil
}

// onDuty returns who is on the incident's rotation (ok false when none).
func (s *Service) onDuty(ctx context.Context, tx core.Tx, i Incident) (od struct{ Primary, Secondary, Next string }, ok bool) {
	if i.Rotation == "" || s.deps.Roster == nil {
		return od, false
	}
	d, err := s.deps.Roster.OnDuty(ctx, tx, i.Rotation)
	if err != nil {
		return od, false
	}
	od.Primary, od.Secondary, od.Next = d.Now.Primary, d.Now.Secondary, d.Next.Primary
	return od, true
}

// targets resolves escalation target names to users.
func (s *Service) targets(ctx context.Context, tx WriteTx, i Incident, names []string) ([]string, error) {
	out, _, err := s.stepTargets(ctx, tx, i, names)
	return out, err
}

// stepTargets resolves escalation target names to users. The unit and
// district admins are those covering the incident's unit; an incident
// with no unit has none, so those names go to the operators' admins (the
// sys admins when the operators have none), returned as well in
// substitutes so the card can say why — never to every admin in the city.
func (s *Service) stepTargets(ctx context.Context, tx WriteTx, i Incident, names []string) (out, substitutes []string, err error) {
	od, _ := s.onDuty(ctx, tx, i)
	for _, n := range names {
		switch {
		case n == "primary":
			out = paging.Add(out, od.Primary)
		case n == "secondary":
			out = paging.Add(out, od.Secondary)
		case i.Unit == "" && (n == string(org.RoleUnitAdmin) || n == string(org.RoleDistrictAdmin)):
			if substitutes == nil {
				if substitutes, err = operatorsAdmins(ctx, tx); err != nil {
					return nil, nil, err
				}
			}
			out = paging.Add(out, substitutes...)
		default:
			if out, err = paging.Holders(ctx, tx, out, i.Unit, n); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, substitutes, nil
}

// operatorsAdmins returns the admins nearest to the operators' units, or
// the sys admins when there are none: who answers for an incident no
// unit owns.
func operatorsAdmins(ctx context.Context, tx WriteTx) ([]string, error) {
	ops, err := org.HoldersOf(ctx, tx, org.RoleOperator)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, op := range ops {
		admins, err := org.AdminsOf(ctx, tx, op)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return nil, err
		}
		out = paging.Add(out, admins...)
	}
	if len(out) == 0 {
		return org.HoldersOf(ctx, tx, org.RoleSysAdmin)
	}
	return out, nil
}

// send sends a notice to users and, when channel is set, to that channel.
func send(ctx context.Context, tx core.Tx, ref string, users []string, channel string, p core.Payload) error {
	for _, u := range users {
		if err := tx.Notify(ctx, core.Notice{Ref: ref, To: core.Recipient{User: u}, Body: p}); err != nil {
			return err
		}
	}
	if channel != "" {
		return tx.Notify(ctx, core.Notice{Ref: ref, To: core.Recipient{Channel: channel}, Body: p})
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

// card is the incident's card with, for an open level 1–2 incident, who
// is on duty until it closes (W 9.3: 24-hour duty).
func (s *Service) card(ctx context.Context, tx core.Tx, i Incident, alert *AlertState) CardData {
	if alert == nil && i.Source == SourceAlertmanager && s.alerts != nil {
		alert = s.alerts.CardState(ctx, tx, i.ID)
	}
	c := CardData{Brief: BriefOf(i), Alert: alert}
	if i.Level <= 2 && i.Open() {
		if od, ok := s.onDuty(ctx, tx, i); ok {
			c.OnDuty, c.NextDuty = []string{od.Primary, od.Secondary}, od.Next
		}
	}
	return c
}

// refresh replaces every card of the incident with its current state.
func (s *Service) refresh(ctx context.Context, tx core.Tx, i Incident, alert *AlertState) error {
	return tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: CardUpdate{s.card(ctx, tx, i, alert)}})
}

// broadcast tells the stakeholders (and the channel) about an event.
func (s *Service) broadcast(ctx context.Context, tx core.Tx, i Incident, actor core.Actor, event, body string) error {
	var to []string
	for _, u := range append([]string{i.Owner, i.DeclaredBy}, i.Stakeholders...) {
		if u != actor.UserID {
			to = paging.Add(to, u)
		}
	}
	return send(ctx, tx, i.Ref(), to, s.channelOf(i), EventNotice{Brief: BriefOf(i), Event: event, Body: body, By: actor.UserID, ByName: actor.Name})
}

func addStakeholders(i *Incident, users ...string) {
	i.Stakeholders = paging.Add(i.Stakeholders, users...)
}

// scheduleEscalation sets the timer of step n (if the policy has it).
func (s *Service) scheduleEscalation(ctx context.Context, tx core.Tx, i Incident, n int) error {
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

func (s *Service) scheduleProgress(ctx context.Context, tx core.Tx, i Incident, missed bool) error {
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

// startClocks schedules an open incident's next escalation step and progress reminder.
func (s *Service) startClocks(ctx context.Context, tx core.Tx, inc Incident) error {
	if err := s.scheduleEscalation(ctx, tx, inc, 1); err != nil {
		return err
	}
	return s.scheduleProgress(ctx, tx, inc, false)
}

// open stores a new incident (its rotation the one covering its unit when
// unset): its first escalation step's people become its owner and
// stakeholders, its timeline starts with the declaration, its clocks
// start and the declaration is audited.
func (s *Service) open(ctx context.Context, tx WriteTx, inc *Incident, by core.Actor, body string) (first []string, err error) {
	if inc.Unit == "" && inc.System != "" {
		// No unit given: the app's owner unit answers for it.
		if app, err := tx.App(ctx, inc.System); err == nil && app.Owner != "" {
			if u, err := tx.Unit(ctx, app.Owner); err == nil && !u.Removed {
				inc.Unit = u.Code
			}
		}
	}
	if inc.Rotation == "" {
		inc.Rotation = s.cfg.Rotation
		if s.deps.Coverer != nil {
			if inc.Rotation, err = s.deps.Coverer.Covering(ctx, tx, inc.Unit, s.cfg.Rotation); err != nil {
				return nil, err
			}
		}
	}
	if first, err = s.targets(ctx, tx, *inc, s.cfg.Policy.Steps[inc.Level][0].Notify); err != nil {
		return nil, err
	}
	if len(first) > 0 {
		inc.Owner = first[0]
	}
	addStakeholders(inc, first...)
	if err := tx.InsertIncident(ctx, inc); err != nil {
		return nil, err
	}
	if err := tx.InsertEvent(ctx, inc.ID, Event{At: inc.CreatedAt, Actor: by.UserID, Kind: "declare", Body: body}); err != nil {
		return nil, err
	}
	if err := s.startClocks(ctx, tx, *inc); err != nil {
		return nil, err
	}
	if err := s.page(ctx, tx, *inc, first); err != nil {
		return nil, err
	}
	return first, s.record(ctx, tx, by, "incident.declare", *inc, nil)
}

// Declare opens an incident and pages the first escalation step.
func (s *Service) Declare(ctx context.Context, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	var out Incident
	err := s.store.InTx(ctx, func(tx WriteTx) error {
		var err error
		out, err = s.declareIn(ctx, tx, actor, title, level, system, unit)
		return err
	})
	return out, err
}

// DeclareIn opens an incident inside tx, so another change (an inspection
// item marked Issue, a failed backup) and its incident commit together.
// The system actor may declare. tx is the other domain's transaction; it
// must implement this package's WriteTx port as well (the store's does).
func (s *Service) DeclareIn(ctx context.Context, tx core.Tx, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	itx, ok := tx.(WriteTx)
	if !ok {
		return Incident{}, fmt.Errorf("incident: declare in a %T, which is no incident transaction", tx)
	}
	return s.declareIn(ctx, itx, actor, title, level, system, unit)
}

func (s *Service) declareIn(ctx context.Context, tx WriteTx, actor core.Actor, title string, level int, system, unit string) (Incident, error) {
	title = strings.TrimSpace(title)
	if err := core.CheckName("title", title, maxTitle); err != nil {
		return Incident{}, err
	}
	if level < 1 || level > 4 {
		return Incident{}, core.Invalid("incident_level", "value", strconv.Itoa(level))
	}
	if err := paging.Registered(ctx, tx, actor); err != nil && actor.UserID != core.SystemUser {
		return Incident{}, err
	}
	if unit != "" {
		if u, err := tx.Unit(ctx, unit); err != nil || u.Removed {
			return Incident{}, core.NotFound("unit_not_found", "code", unit)
		}
	}
	if system != "" {
		if _, err := tx.App(ctx, system); errors.Is(err, core.ErrNotFound) {
			return Incident{}, core.NotFound("app_not_found", "code", system)
		} else if err != nil {
			return Incident{}, err
		}
	}
	now := s.clock.Now()
	inc := Incident{Title: title, Level: level, State: StateDeclared, System: system, Unit: unit,
		DeclaredBy: actor.UserID, CreatedAt: now, LastUpdateAt: now, Source: SourceChat}
	if actor.Platform == core.PlatformAPI {
		inc.Source = SourceAPI // a script or integration, not a person typing
	}
	first, err := s.open(ctx, tx, &inc, actor, title)
	if err != nil {
		return inc, err
	}
	if err := send(ctx, tx, inc.CardRef(), first, s.channelOf(inc), Card{s.card(ctx, tx, inc, nil)}); err != nil {
		return inc, err
	}
	if level <= 2 {
		// Level 1–2 need 24-hour duty until closure: tell the next people.
		if od, ok := s.onDuty(ctx, tx, inc); ok {
			to := []string{}
			for _, u := range []string{od.Secondary, od.Next} {
				if u != inc.Owner {
					to = paging.Add(to, u)
				}
			}
			if err := send(ctx, tx, inc.Ref(), to, "", Duty24{Brief: BriefOf(inc), OnDuty: append([]string{od.Primary}, to...)}); err != nil {
				return inc, err
			}
		}
	}
	return inc, nil
}

// change loads an incident under lock, applies fn and records the event:
// the cards are refreshed and the stakeholders told.
func (s *Service) change(ctx context.Context, actor core.Actor, id int64, action string, fn func(tx WriteTx, i *Incident) (event, body string, err error)) (Incident, error) {
	return s.changeAs(ctx, actor, id, action, true, fn)
}

// changeOpen is change for the verbs open to every member (an update,
// escalating by hand): no authority check.
func (s *Service) changeOpen(ctx context.Context, actor core.Actor, id int64, action string, fn func(tx WriteTx, i *Incident) (event, body string, err error)) (Incident, error) {
	return s.changeAs(ctx, actor, id, action, false, fn)
}

// changeAs is change, checking the actor's authority over the incident
// (after its state's own refusals) when restricted.
func (s *Service) changeAs(ctx context.Context, actor core.Actor, id int64, action string, restricted bool, fn func(tx WriteTx, i *Incident) (event, body string, err error)) (Incident, error) {
	var out Incident
	err := s.store.InTx(ctx, func(tx WriteTx) (err error) {
		out, err = s.changeIn(ctx, tx, actor, id, action, restricted, fn)
		return err
	})
	return out, err
}

// changeIn is changeAs inside tx.
func (s *Service) changeIn(ctx context.Context, tx WriteTx, actor core.Actor, id int64, action string, restricted bool, fn func(tx WriteTx, i *Incident) (event, body string, err error)) (Incident, error) {
	if err := paging.Registered(ctx, tx, actor); err != nil {
		return Incident{}, err
	}
	i, err := load(ctx, tx, id, true)
	if err != nil {
		return Incident{}, err
	}
	before := i
	if restricted && notClosed(&i) == nil {
		if err := s.authorize(ctx, tx, actor, i); err != nil {
			return Incident{}, err
		}
	}
	event, body, err := fn(tx, &i)
	if err != nil {
		return Incident{}, err
	}
	if err := tx.UpdateIncident(ctx, i); err != nil {
		return Incident{}, err
	}
	if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: actor.UserID, Kind: event, Body: body}); err != nil {
		return Incident{}, err
	}
	if err := s.refresh(ctx, tx, i, nil); err != nil {
		return Incident{}, err
	}
	if err := s.broadcast(ctx, tx, i, actor, event, body); err != nil {
		return Incident{}, err
	}
	return i, s.record(ctx, tx, actor, action, i, before)
}

// load reads an incident, incident_not_found when there is none.
func load(ctx context.Context, tx interface {
	Incident(ctx context.Context, id int64, lock bool) (Incident, error)
}, id int64, lock bool) (Incident, error) {
	i, err := tx.Incident(ctx, id, lock)
	if errors.Is(err, core.ErrNotFound) {
		return i, core.NotFound("incident_not_found", "id", itoa(id))
	}
	return i, err
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
	return s.change(ctx, actor, id, "incident.ack", s.ack(ctx, actor))
}

// ack is the change acknowledging an incident as actor.
func (s *Service) ack(ctx context.Context, actor core.Actor) func(tx WriteTx, i *Incident) (string, string, error) {
	return func(tx WriteTx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		if i.State != StateDeclared {
			return "", "", core.AlreadyDecided("incident_acked", "id", itoa(i.ID), "by", i.Owner,
				"at", i.AckedAt.In(s.cal.Location()).Format("2006-01-02 15:04"))
		}
		now := s.clock.Now()
		i.State, i.AckedAt, i.Owner = StateAcknowledged, &now, actor.UserID
		addStakeholders(i, actor.UserID)
		if err := stopPaging(ctx, tx, *i); err != nil {
			return "", "", err
		}
		return "ack", "", tx.CancelTimers(ctx, i.Ref(), TimerEscalation)
	}
}

// Assign hands the incident to a user, who gets its card.
func (s *Service) Assign(ctx context.Context, actor core.Actor, id int64, user string) (Incident, error) {
	return s.change(ctx, actor, id, "incident.assign", func(tx WriteTx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		u, err := paging.ActiveUser(ctx, tx, user)
		if err != nil {
			return "", "", err
		}
		i.Owner = u.ID
		addStakeholders(i, u.ID)
		c := s.card(ctx, tx, *i, nil)
		c.AssignedBy = actor.UserID
		return "assign", u.ID, tx.Notify(ctx, core.Notice{Ref: i.CardRef(), To: core.Recipient{User: u.ID}, Body: Card{c}})
	})
}

// Update posts a progress report: broadcast to the stakeholders, and the
// next report is due one interval later.
func (s *Service) Update(ctx context.Context, actor core.Actor, id int64, text string) (Incident, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Incident{}, core.Invalid("update_text")
	}
	return s.changeOpen(ctx, actor, id, "incident.update", func(tx WriteTx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		i.LastUpdateAt = s.clock.Now()
		addStakeholders(i, actor.UserID)
		return "update", text, s.scheduleProgress(ctx, tx, *i, false)
	})
}

// SetLevel regrades an incident; its escalation and reminders follow the new level.
func (s *Service) SetLevel(ctx context.Context, actor core.Actor, id int64, level int) (Incident, error) {
	if level < 1 || level > 4 {
		return Incident{}, core.Invalid("incident_level", "value", strconv.Itoa(level))
	}
	return s.change(ctx, actor, id, "incident.level", func(tx WriteTx, i *Incident) (string, string, error) {
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
	return s.changeOpen(ctx, actor, id, "incident.escalate", func(tx WriteTx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		to, err := s.escalate(ctx, tx, i)
		return "escalate", strings.Join(to, ","), err
	})
}

// escalate notifies the next step's targets and schedules the one after.
func (s *Service) escalate(ctx context.Context, tx WriteTx, i *Incident) ([]string, error) {
	steps := s.cfg.Policy.Steps[i.Level]
	n := i.Escalation + 1
	if n >= len(steps) {
		n = len(steps) - 1
	}
	before := slices.Clone(i.Stakeholders)
	to, substitutes, err := s.stepTargets(ctx, tx, *i, steps[n].Notify)
	if err != nil {
		return nil, err
	}
	i.Escalation = n
	addStakeholders(i, to...)
	c := s.card(ctx, tx, *i, nil)
	c.Escalated, c.NoUnit = true, substitutes
	if err := send(ctx, tx, i.CardRef(), to, "", Card{c}); err != nil {
		return nil, err
	}
	if i.State == StateDeclared {
		var fresh []string // paged by an earlier step already: their own chain runs
		for _, u := range to {
			if !slices.Contains(before, u) {
				fresh = append(fresh, u)
			}
		}
		if err := s.page(ctx, tx, *i, fresh); err != nil {
			return nil, err
		}
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
	return s.change(ctx, actor, id, "incident.mitigate", func(tx WriteTx, i *Incident) (string, string, error) {
		if err := stillOpen(i); err != nil {
			return "", "", err
		}
		now := s.clock.Now()
		if i.AckedAt == nil {
			i.AckedAt = &now
		}
		i.State, i.MitigatedAt = StateMitigated, &now
		if err := stopPaging(ctx, tx, *i); err != nil {
			return "", "", err
		}
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
	return s.change(ctx, actor, id, "incident.resolve", func(tx WriteTx, i *Incident) (string, string, error) {
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
		if err := tx.CancelTimers(ctx, i.Ref(), ""); err != nil {
			return "", "", err
		}
		body := summary
		if s.deps.Major != nil {
			if p, err := s.deps.Major.ProposeMajor(ctx, tx, *i); err != nil {
				return "", "", err
			} else if p != 0 {
				body += " / problem #" + itoa(p)
			}
		}
		return "resolve", body, nil
	})
}

// Detail is an incident with its timeline.
type Detail struct {
	Incident Incident
	Events   []Event
	Actions  []Action
	Problem  int64
	OnDuty   struct{ Primary, Secondary string }
}

// Show returns an incident with its timeline.
func (s *Service) Show(ctx context.Context, actor core.Actor, id int64) (Detail, error) {
	var d Detail
	err := s.store.Read(ctx, func(tx ReadTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		i, err := load(ctx, tx, id, false)
		if err != nil {
			return err
		}
		d.Incident = i
		if od, ok := s.onDuty(ctx, tx, i); ok {
			d.OnDuty.Primary, d.OnDuty.Secondary = od.Primary, od.Secondary
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

// List returns recent incidents, only open ones when open is set, to any
// registered user. Lists asked for at once share their reads (every user
// sees the same list): each is answered by a read begun after it was
// asked for, so it shows everything committed before, as a read of its
// own would, while under load one read answers many.
func (s *Service) List(ctx context.Context, actor core.Actor, open bool, limit int) ([]Line, error) {
	limit = min(max(limit, 1), MaxQuery+1)
	if err := s.store.Read(ctx, func(tx ReadTx) error { return paging.Registered(ctx, tx, actor) }); err != nil {
		return nil, err
	}
	lines, err := s.lists.Do(ctx, listKey{open: open, limit: limit})
	return slices.Clone(lines), err
}

// readList reads a page of the list for List's callers.
func (s *Service) readList(ctx context.Context, k listKey) ([]Line, error) {
	var out []Line
	err := s.store.Read(ctx, func(tx ReadTx) error {
		var err error
		out, err = tx.Incidents(ctx, k.open, k.limit)
		return err
	})
	return out, err
}

// MaxQuery is the most incidents Query returns at once.
const MaxQuery = 500

// Query returns the incidents f selects, newest first, to any registered
// user (as List does): at most f.Limit (50 when unset, MaxQuery at most).
func (s *Service) Query(ctx context.Context, actor core.Actor, f Filter) ([]Incident, error) {
	switch f.State {
	case "", StateOpen, StateDeclared, StateAcknowledged, StateMitigated, StateResolved, StateClosed:
	default:
		return nil, core.Invalid("incident_state", "value", f.State)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, MaxQuery)
	var out []Incident
	err := s.store.Read(ctx, func(tx ReadTx) error {
		if err := paging.Registered(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		out, err = tx.FindIncidents(ctx, f)
		return err
	})
	return out, err
}

// Backlog lists what an outgoing person hands over, one line each: the
// open incidents and the number of pending requests, inside another
// domain's transaction (which must read them: the store's does).
func (s *Service) Backlog(ctx context.Context, tx core.Tx) (string, error) {
	rtx, ok := tx.(interface {
		Incidents(ctx context.Context, open bool, limit int) ([]Line, error)
		PendingRequests(ctx context.Context) (int, error)
	})
	if !ok {
		return "", fmt.Errorf("incident: %T lists no open incidents and requests", tx)
	}
	open, err := rtx.Incidents(ctx, true, 100)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, i := range open {
		lines = append(lines, "incident #"+itoa(i.ID)+" L"+strconv.Itoa(i.Level)+" "+i.Title+" ["+i.State+"]")
	}
	pending, err := rtx.PendingRequests(ctx)
	if err != nil {
		return "", err
	}
	if pending > 0 {
		lines = append(lines, "pending requests: "+strconv.Itoa(pending))
	}
	return strings.Join(lines, "\n"), nil
}

// incidentOf reads the incident id of a timer's ref ("incident:N…").
func incidentOf(t core.Timer) (int64, error) {
	iid, err := t.RefID("incident:")
	if err != nil {
		return 0, fmt.Errorf("incident: %w", err)
	}
	return iid, nil
}

// HandleTimer fires an escalation step or a progress reminder, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx WriteTx, t core.Timer) error {
		iid, err := incidentOf(t)
		if err != nil {
			return err
		}
		i, err := tx.Incident(ctx, iid, true)
		if err != nil {
			return err
		}
		if !i.Open() {
			return nil
		}
		switch t.Kind {
		case TimerEscalation:
			return s.escalateStep(ctx, tx, i)
		case TimerProgress:
			return s.progressDue(ctx, tx, i, t.Data["missed"] == "1")
		}
		return nil
	}, s.lockTimer(ctx))
}

// lockTimer locks the incident a timer is about before the timer is
// claimed, in the global lock order (core.Fire): incident, then timers.
func (s *Service) lockTimer(ctx context.Context) func(tx WriteTx, t core.Timer) error {
	return func(tx WriteTx, t core.Timer) error {
		iid, err := incidentOf(t)
		if err != nil {
			return err
		}
		_, err = tx.Incident(ctx, iid, true)
		return err
	}
}

// escalateStep pages the next step of an incident nobody acknowledged.
func (s *Service) escalateStep(ctx context.Context, tx WriteTx, i Incident) error {
	if i.State != StateDeclared {
		return nil
	}
	sys := core.SystemActor()
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
	if err := s.refresh(ctx, tx, i, nil); err != nil {
		return err
	}
	return s.record(ctx, tx, sys, "incident.escalate", i, before)
}

// progressDue reminds the owner of a progress report, or, when the
// reminder went unanswered, tells the admins.
func (s *Service) progressDue(ctx context.Context, tx WriteTx, i Incident, missed bool) error {
	r := Report{Brief: BriefOf(i), LastUpdate: i.LastUpdateAt}
	if missed {
		// Still no report: escalate the silence to the admins.
		to, err := s.targets(ctx, tx, i, []string{"unit_admin", "sys_admin"})
		if err != nil {
			return err
		}
		if err := send(ctx, tx, i.Ref(), to, s.channelOf(i), ReportOverdue{r}); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, i.ID, Event{At: s.clock.Now(), Actor: core.SystemUser, Kind: "report_overdue", Body: strings.Join(to, ",")}); err != nil {
			return err
		}
		return s.scheduleProgress(ctx, tx, i, false)
	}
	owner := i.Owner
	if owner == "" {
		owner = i.DeclaredBy
	}
	if err := send(ctx, tx, i.Ref(), []string{owner}, "", ProgressDue{r}); err != nil {
		return err
	}
	return s.scheduleProgress(ctx, tx, i, true)
}
