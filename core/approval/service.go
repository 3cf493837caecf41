package approval

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/org"
)

// Timer kinds this package fires.
const (
	TimerRemind    = "approval:remind"
	TimerWindowEnd = "change:window_end"
)

// Config tunes the engine.
type Config struct {
	RemindEvery time.Duration   // working time between reminders (default 4h)
	Channel     string          // channel that sees every card ("" for none)
	Daytime     calendar.Period // daytime operations, no normal changes (08:30–18:00)
}

// Service carries out approval commands.
type Service struct {
	store Store
	clock core.Clock
	cal   *calendar.Calendar
	cfg   Config

	problems Problems // the problem library changes link to (nil: off)
}

// NewService returns the approval engine.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, cfg Config) *Service {
	if cfg.RemindEvery <= 0 {
		cfg.RemindEvery = 4 * time.Hour
	}
	if cfg.Daytime.End == 0 {
		cfg.Daytime = calendar.Period{Start: 8*60 + 30, End: 18 * 60}
	}
	return &Service{store: store, clock: clock, cal: cal, cfg: cfg}
}

// Result is what a submission or decision did.
type Result struct {
	Request  Request
	Step     Step     // the step now current (zero when closed)
	Steps    int      // number of steps of the route
	Decision Decision // the decision made (zero for a submission)
	Waiting  int      // approvals still missing on a multi-approval step
	Next     []string // who may act next
}

// activeActor checks the actor is a registered, active user.
func activeActor(ctx context.Context, tx Directory, actor core.Actor) (org.User, error) {
	u, err := tx.User(ctx, actor.UserID)
	if errors.Is(err, core.ErrNotFound) {
		return org.User{}, core.Forbidden("not_registered", "id", actor.UserID)
	}
	if err != nil {
		return org.User{}, err
	}
	if u.Removed {
		return org.User{}, core.Forbidden("user_removed", "id", u.ID)
	}
	return u, nil
}

// actorGrants checks the actor is a registered, active user and returns
// the roles they hold.
func actorGrants(ctx context.Context, tx Directory, actor core.Actor) ([]org.Grant, error) {
	if _, err := activeActor(ctx, tx, actor); err != nil {
		return nil, err
	}
	return tx.GrantsOf(ctx, actor.UserID)
}

// lockRequest returns request id under a row lock, or request_not_found.
func lockRequest(ctx context.Context, tx Tx, id int64) (Request, error) {
	r, err := tx.Request(ctx, id, true)
	if errors.Is(err, core.ErrNotFound) {
		return Request{}, core.NotFound("request_not_found", "id", itoa(id))
	}
	return r, err
}

// submit stores a new request and posts the first step's cards.
func (s *Service) submit(ctx context.Context, tx Ports, actor core.Actor, r Request) (Result, error) {
	steps, err := tx.Route(ctx, r.Route)
	if err != nil {
		return Result{}, err
	}
	if len(steps) == 0 {
		return Result{}, fmt.Errorf("approval: route %s has no steps", r.Route)
	}
	now := s.clock.Now()
	r.State, r.Step, r.Requester = StatePending, 1, actor.UserID
	r.CreatedAt, r.UpdatedAt, r.StepSince = now, now, now
	if err := tx.InsertRequest(ctx, &r); err != nil {
		return Result{}, err
	}
	if err := core.Record(ctx, tx, s.clock.Now(), actor, "request.submit", r.Ref(), nil, r); err != nil {
		return Result{}, err
	}
	next, err := s.enterStep(ctx, tx, r, steps, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{Request: r, Step: steps[0], Steps: len(steps), Next: next}, nil
}

// enterStep posts cards for r's current step to everyone who may act on
// it and the channel, and schedules the reminder. It refuses a step nobody
// can act on, so no request is left waiting for no one.
func (s *Service) enterStep(ctx context.Context, tx Ports, r Request, steps []Step, decisions []Decision) ([]string, error) {
	st := steps[r.Step-1]
	_, next, err := s.deciders(ctx, tx, r, st, decisions, st.Verbs[0])
	if err != nil {
		return nil, err
	}
	if len(next) == 0 {
		return nil, core.Conflict("no_decider", "step", st.Name, "roles", joinRoles(st.Roles))
	}
	card := s.card(ctx, tx, r, st, len(steps), decisions)
	for _, u := range next {
		if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(r.Step), To: core.Recipient{User: u}, Body: card}); err != nil {
			return nil, err
		}
	}
	if s.cfg.Channel != "" {
		if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(r.Step), To: core.Recipient{Channel: s.cfg.Channel}, Body: card}); err != nil {
			return nil, err
		}
	}
	if err := tx.CancelTimers(ctx, r.Ref(), TimerRemind); err != nil {
		return nil, err
	}
	due := s.cal.AddWorking(s.clock.Now(), s.cfg.RemindEvery)
	return next, tx.Schedule(ctx, core.Timer{Kind: TimerRemind, Ref: r.Ref(), DueAt: due, Data: map[string]string{"step": itoa(int64(r.Step))}})
}

func joinRoles(rs []org.Role) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

// card is what a card shows of r at step st.
func (s *Service) card(ctx context.Context, tx Directory, r Request, st Step, steps int, decisions []Decision) Card {
	c := Card{ID: r.ID, Kind: r.Kind, Title: r.Title, Requester: r.Requester, Step: r.Step, Steps: steps, StepName: st.Name,
		Verbs: slices.Clone(st.Verbs), App: r.App, Unit: r.Unit, State: r.State, Count: st.Count, Payload: maps.Clone(r.Payload)}
	if u, err := tx.User(ctx, r.Requester); err == nil {
		c.RequesterName = u.Name
	}
	for _, dec := range decisions {
		if dec.Step == r.Step && dec.Verb == VerbApprove {
			c.ApprovedBy = append(c.ApprovedBy, dec.Actor)
		}
	}
	return c
}

// lastDecision returns the latest decision on step (any step when 0).
func lastDecision(decisions []Decision, step int) (Decision, bool) {
	for i := len(decisions) - 1; i >= 0; i-- {
		if step == 0 || decisions[i].Step == step {
			return decisions[i], true
		}
	}
	return Decision{}, false
}

func (s *Service) alreadyDecided(r Request, decisions []Decision, step int) error {
	if r.State == StateExpired {
		return core.AlreadyDecided("request_expired", "id", itoa(r.ID), "window", r.Payload["window_approved"])
	}
	if d, ok := lastDecision(decisions, step); ok {
		return core.AlreadyDecided("already_decided", "id", itoa(r.ID), "by", d.Actor, "verb", d.Verb,
			"at", d.At.In(s.cal.Location()).Format("2006-01-02 15:04"), "state", string(r.State))
	}
	return core.AlreadyDecided("request_closed", "id", itoa(r.ID), "state", string(r.State))
}

// Decide applies verb to request id's step (0: the current step) for actor.
// It is safe against double clicks and races: the request row is locked,
// and a decision on a step that has moved on is refused with who decided.
func (s *Service) Decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string) (Result, error) {
	return s.decide(ctx, actor, id, step, verb, note, extra{})
}

// ApproveWindow approves a change's current approval step and sets the
// window it may be carried out in (W 8.6 d): a narrower one inside the
// requested window, or one that moves it. The window obeys the rules of a
// requested one (in order, not past, a normal change not in daytime); the
// decision, the audit entry and the cards show it.
func (s *Service) ApproveWindow(ctx context.Context, actor core.Actor, id int64, step int, note string, start, end time.Time) (Result, error) {
	return s.decide(ctx, actor, id, step, VerbApprove, note, extra{win: &window{start: start, end: end}})
}

// window is a change window an approver sets.
type window struct{ start, end time.Time }

// extra is what some decisions carry besides a note: the window an
// approver sets, the test record of a change's completion.
type extra struct {
	win   *window
	tests *testRecord
}

func (s *Service) decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string, x extra) (Result, error) {
	win := x.win
	note = strings.TrimSpace(note)
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		r, err := lockRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		decisions, err := tx.Decisions(ctx, id)
		if err != nil {
			return err
		}
		if r.State != StatePending {
			return s.alreadyDecided(r, decisions, 0)
		}
		if step != 0 && step != r.Step {
			return s.alreadyDecided(r, decisions, step)
		}
		steps, err := tx.Route(ctx, r.Route)
		if err != nil {
			return err
		}
		st := steps[r.Step-1]
		if !st.Allows(verb) {
			return core.Invalid("verb_not_allowed", "id", itoa(id), "verb", verb, "step", st.Name, "verbs", strings.Join(st.Verbs, ","))
		}
		if NeedsNote[verb] && note == "" {
			return core.Invalid("note_required", "id", itoa(id), "verb", verb)
		}
		cands, _, err := s.deciders(ctx, tx, r, st, decisions, verb)
		if err != nil {
			return err
		}
		if code := refusal(r, st, decisions, actor.UserID, verb, cands); code != "" {
			return core.Forbidden(code, "id", itoa(id), "step", st.Name, "roles", joinRoles(st.Roles))
		}
		if ((r.Kind == KindChange && st.Name == "complete") || (r.Kind == KindOperation && st.Name == "execute")) && note == "" {
			return core.Invalid("note_required", "id", itoa(id), "verb", verb)
		}
		if r.Kind == KindChange && st.Name == "complete" {
			// W 8.6 e: tests before and after, recorded, before it is done.
			if x.tests == nil || x.tests.before == "" || x.tests.after == "" {
				return core.Invalid("change_test_record", "id", itoa(id))
			}
		}
		if r.Kind == KindChange && verb == VerbStart {
			if err := s.startable(r); err != nil {
				return err
			}
		}
		before := r
		before.Payload = maps.Clone(r.Payload)
		dec := Decision{RequestID: id, Step: r.Step, Actor: actor.UserID, Verb: verb, Note: note, Platform: actor.Platform, At: s.clock.Now()}
		if win != nil {
			if r.Kind != KindChange {
				return core.Invalid("window_not_change", "id", itoa(id), "kind", string(r.Kind))
			}
			if err := s.checkWindow(win.start, win.end, r.Payload["emergency"] == "yes"); err != nil {
				return err
			}
			dec.Window = s.setWindow(&r, win.start, win.end)
		}
		if err := tx.InsertDecision(ctx, dec); err != nil {
			return err
		}
		decisions = append(decisions, dec)
		res, err = s.transition(ctx, tx, actor, r, steps, st, dec, decisions, x)
		if err != nil {
			return err
		}
		after := map[string]any{"state": res.Request.State, "step": res.Request.Step, "note": note, "decided_step": dec.Step}
		if dec.Window != "" {
			after["window"] = dec.Window
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "request."+verb, r.Ref(), before, after)
	})
	return res, err
}

// transition moves r on after dec and writes the notices.
func (s *Service) transition(ctx context.Context, tx Ports, actor core.Actor, r Request, steps []Step, st Step, dec Decision, decisions []Decision, x extra) (Result, error) {
	now := s.clock.Now()
	res := Result{Decision: dec, Steps: len(steps)}
	decided := r.Step
	progress := Progress{ID: r.ID, Kind: r.Kind, Title: r.Title, Verb: dec.Verb, By: actor.UserID, ByName: actor.Name,
		Note: dec.Note, StepName: st.Name}
	switch {
	case dec.Verb == VerbReject:
		r.State, r.ClosedAt = StateRejected, &now
	case (dec.Verb == VerbFail || dec.Verb == VerbIssues || dec.Verb == VerbTestFail) && st.BackTo > 0:
		r.Step, r.StepSince = st.BackTo, now
	case dec.Verb == VerbApprove && countApprovals(decisions, r.Step) < st.Count:
		res.Waiting = st.Count - countApprovals(decisions, r.Step)
	default:
		if err := s.effects(ctx, tx, actor, &r, st, dec, x); err != nil {
			return Result{}, err
		}
		if r.Step == len(steps) {
			r.State, r.ClosedAt = StateDone, &now
		} else {
			r.Step, r.StepSince = r.Step+1, now
		}
	}
	r.UpdatedAt = now
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return Result{}, err
	}
	res.Request = r
	// The decided step's cards now show the outcome (or who approved so far).
	upd := CardUpdate{Card: s.card(ctx, tx, r, st, len(steps), decisions), DecidedVerb: dec.Verb, DecidedBy: dec.Actor,
		DecidedByName: actor.Name, DecidedAt: now, Note: dec.Note, Waiting: res.Waiting}
	upd.Step = decided
	if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(decided), Body: upd}); err != nil {
		return Result{}, err
	}
	if res.Waiting > 0 {
		return res, nil
	}
	if r.State == StatePending {
		next, err := s.enterStep(ctx, tx, r, steps, decisions)
		if err != nil {
			return Result{}, err
		}
		res.Step, res.Next = steps[r.Step-1], next
		progress.NextStep = res.Step.Name
	} else if err := tx.CancelTimers(ctx, r.Ref(), ""); err != nil {
		return Result{}, err
	}
	progress.State = r.State
	if r.Requester != actor.UserID {
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{User: r.Requester}, Body: progress}); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func countApprovals(decisions []Decision, step int) int {
	seen := map[string]bool{}
	for _, d := range decisions {
		if d.Step == step && d.Verb == VerbApprove {
			seen[d.Actor] = true
		}
	}
	return len(seen)
}

// Cancel withdraws a pending request; only its requester may.
func (s *Service) Cancel(ctx context.Context, actor core.Actor, id int64) (Request, error) {
	var out Request
	err := s.store.InTx(ctx, func(tx Ports) error {
		r, err := lockRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Requester != actor.UserID {
			return core.Forbidden("not_requester", "id", itoa(id), "requester", r.Requester)
		}
		decisions, err := tx.Decisions(ctx, id)
		if err != nil {
			return err
		}
		if r.State != StatePending {
			return s.alreadyDecided(r, decisions, 0)
		}
		before := r
		now := s.clock.Now()
		dec := Decision{RequestID: id, Step: r.Step, Actor: actor.UserID, Verb: "cancel", Platform: actor.Platform, At: now}
		if err := tx.InsertDecision(ctx, dec); err != nil {
			return err
		}
		decisions = append(decisions, dec)
		r.State, r.ClosedAt, r.UpdatedAt = StateCancelled, &now, now
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		steps, err := tx.Route(ctx, r.Route)
		if err != nil {
			return err
		}
		upd := CardUpdate{Card: s.card(ctx, tx, r, steps[r.Step-1], len(steps), decisions), DecidedVerb: "cancel",
			DecidedBy: actor.UserID, DecidedByName: actor.Name, DecidedAt: now}
		if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(r.Step), Body: upd}); err != nil {
			return err
		}
		if err := tx.CancelTimers(ctx, r.Ref(), ""); err != nil {
			return err
		}
		out = r
		return core.Record(ctx, tx, s.clock.Now(), actor, "request.cancel", r.Ref(), before, r)
	})
	return out, err
}

// Detail is a request with its route and history.
type Detail struct {
	Request   Request
	Steps     []Step
	Decisions []Decision
	Next      []string
	// Waited is the working time the current step has waited since it
	// began (pending requests; zero otherwise), counted by the calendar
	// as the overview counts it.
	Waited time.Duration
}

// mayView reports whether actor may see r: its requester, anyone who
// decided or may decide it, sys admins and operators.
func (s *Service) mayView(ctx context.Context, tx Directory, actor string, d Detail) (bool, error) {
	if d.Request.Requester == actor {
		return true, nil
	}
	for _, dec := range d.Decisions {
		if dec.Actor == actor {
			return true, nil
		}
	}
	for _, u := range d.Next {
		if u == actor {
			return true, nil
		}
	}
	grants, err := tx.GrantsOf(ctx, actor)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		if g.Role == org.RoleSysAdmin || g.Role == org.RoleOperator {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) detail(ctx context.Context, tx Ports, id int64) (Detail, error) {
	r, err := tx.Request(ctx, id, false)
	if errors.Is(err, core.ErrNotFound) {
		return Detail{}, core.NotFound("request_not_found", "id", itoa(id))
	} else if err != nil {
		return Detail{}, err
	}
	d := Detail{Request: r}
	if d.Steps, err = tx.Route(ctx, r.Route); err != nil {
		return Detail{}, err
	}
	if d.Decisions, err = tx.Decisions(ctx, id); err != nil {
		return Detail{}, err
	}
	if r.State == StatePending {
		st := d.Steps[r.Step-1]
		if _, d.Next, err = s.deciders(ctx, tx, r, st, d.Decisions, st.Verbs[0]); err != nil {
			return Detail{}, err
		}
		if now := s.clock.Now(); s.cal != nil && now.After(r.StepSince) {
			d.Waited = s.cal.WorkingBetween(r.StepSince, now)
		}
	}
	return d, nil
}

// Show returns a request's full history, to those who may see it.
func (s *Service) Show(ctx context.Context, actor core.Actor, id int64) (Detail, error) {
	var d Detail
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if d, err = s.detail(ctx, tx, id); err != nil {
			return err
		}
		if ok, err := s.mayView(ctx, tx, actor.UserID, d); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("request_forbidden", "id", itoa(id))
		}
		return nil
	})
	return d, err
}

// List returns the actor's own requests (mine) and the pending ones
// waiting for them (pending).
func (s *Service) List(ctx context.Context, actor core.Actor, mine, pending bool) (own, waiting []Detail, err error) {
	err = s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		if mine {
			rs, err := tx.Requests(ctx, Filter{Requester: actor.UserID, Limit: 20})
			if err != nil {
				return err
			}
			for _, r := range rs {
				d, err := s.detail(ctx, tx, r.ID)
				if err != nil {
					return err
				}
				own = append(own, d)
			}
		}
		if pending {
			rs, err := tx.Requests(ctx, Filter{Pending: true, Limit: 500})
			if err != nil {
				return err
			}
			for _, r := range rs {
				d, err := s.detail(ctx, tx, r.ID)
				if err != nil {
					return err
				}
				for _, u := range d.Next {
					if u == actor.UserID {
						waiting = append(waiting, d)
						break
					}
				}
			}
		}
		return nil
	})
	return own, waiting, err
}

// HandleTimer fires an approval timer: a reminder to whoever the current
// step still waits for, or a change whose window ended before it started.
// The timer is claimed in the same transaction, so it acts once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	return core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx Ports, t core.Timer) error {
		rid, err := t.RefID("request:")
		if err != nil {
			return fmt.Errorf("approval: %w", err)
		}
		d, err := s.detail(ctx, tx, rid)
		if err != nil {
			return err
		}
		r := d.Request
		if r.State != StatePending || itoa(int64(r.Step)) != t.Data["step"] {
			return nil // moved on since; nothing to say
		}
		if t.Kind == TimerWindowEnd {
			return s.expire(ctx, tx, d)
		}
		card := s.card(ctx, tx, r, d.Steps[r.Step-1], len(d.Steps), d.Decisions)
		for _, u := range d.Next {
			if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(r.Step), To: core.Recipient{User: u}, Body: Reminder{Card: card, Since: r.StepSince}}); err != nil {
				return err
			}
		}
		return tx.Schedule(ctx, core.Timer{Kind: TimerRemind, Ref: r.Ref(), DueAt: s.cal.AddWorking(s.clock.Now(), s.cfg.RemindEvery),
			Data: map[string]string{"step": t.Data["step"]}})
	})
}

// expire closes a change whose window passed before it started (W 8.6 d):
// its open cards lose their buttons, its timers go, and its requester and
// everyone who approved it are told.
func (s *Service) expire(ctx context.Context, tx Ports, d Detail) error {
	r, now, sys := d.Request, s.clock.Now(), core.SystemActor()
	before := r
	r.State, r.ClosedAt, r.UpdatedAt = StateExpired, &now, now
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	card := s.card(ctx, tx, r, d.Steps[r.Step-1], len(d.Steps), d.Decisions)
	upd := CardUpdate{Card: card, DecidedVerb: "expire", DecidedBy: sys.UserID, DecidedByName: sys.Name, DecidedAt: now}
	if err := tx.Notify(ctx, core.Notice{Ref: r.StepRef(r.Step), Body: upd}); err != nil {
		return err
	}
	if err := tx.CancelTimers(ctx, r.Ref(), ""); err != nil {
		return err
	}
	told := []string{r.Requester}
	for _, dec := range d.Decisions {
		if dec.Verb == VerbApprove && !slices.Contains(told, dec.Actor) {
			told = append(told, dec.Actor)
		}
	}
	missed := WindowMissed{Card: card, Since: r.StepSince}
	for _, u := range told {
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{User: u}, Body: missed}); err != nil {
			return err
		}
	}
	return core.Record(ctx, tx, now, sys, "change.expire", r.Ref(), before, r)
}
