package digest

import (
	"context"
	"errors"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Service builds and sends digests.
type Service struct {
	store Store
	clock core.Clock
	cal   *calendar.Calendar
}

// NewService returns the digest service.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar) *Service {
	return &Service{store: store, clock: clock, cal: cal}
}

const dayLayout = "2006-01-02"

// scopeOf is a user's widest manager scope; ok is false for non-managers.
// Operators who subscribed see the city.
func scopeOf(ctx context.Context, tx OrgReader, userID string) (Scope, []string, bool, error) {
	grants, err := tx.GrantsOf(ctx, userID)
	if err != nil {
		return Scope{}, nil, false, err
	}
	if org.HasRole(grants, org.RoleSysAdmin) {
		root, err := tx.Root(ctx)
		return Scope{Kind: "city"}, []string{root.Name}, err == nil, err
	}
	for _, kind := range []struct {
		role org.Role
		name string
	}{{org.RoleDistrictAdmin, "district"}, {org.RoleUnitAdmin, "unit"}} {
		sc := Scope{Kind: kind.name}
		var names []string
		for _, g := range grants {
			if g.Role != kind.role {
				continue
			}
			u, err := tx.Unit(ctx, g.Scope)
			if err != nil {
				continue
			}
			sub, err := tx.Subtree(ctx, u.Path)
			if err != nil {
				return Scope{}, nil, false, err
			}
			for _, x := range sub {
				if !slices.Contains(sc.Units, x.Code) {
					sc.Units = append(sc.Units, x.Code)
				}
			}
			names = append(names, u.Name)
		}
		if len(sc.Units) > 0 {
			return sc, names, true, nil
		}
	}
	if org.HasRole(grants, org.RoleOperator) {
		root, err := tx.Root(ctx)
		return Scope{Kind: "city"}, []string{root.Name}, err == nil, err
	}
	return Scope{}, nil, false, nil
}

func (sc Scope) has(unit string) bool {
	return sc.Kind == "city" || (unit != "" && slices.Contains(sc.Units, unit))
}

func within(t *time.Time, from, to time.Time) bool {
	return t != nil && !t.Before(from) && t.Before(to)
}

// Build computes the digest of the days first..last (YYYY-MM-DD) for
// userID's scope. The counts cover [first 00:00, the earlier of the day
// after last and now); the current state (open incidents, tickets,
// approvals, duty) is as of now.
func (s *Service) Build(ctx context.Context, userID, first, last string) (Digest, error) {
	var d Digest
	err := s.store.InTx(ctx, func(_ Tx, r Reads) error {
		var err error
		d, err = s.build(ctx, r, userID, first, last)
		return err
	})
	return d, err
}

func (s *Service) build(ctx context.Context, r Reads, userID, first, last string) (Digest, error) {
	loc := s.cal.Location()
	from, err := time.ParseInLocation(dayLayout, first, loc)
	if err != nil {
		return Digest{}, core.Invalid("date", "value", first)
	}
	lastDay, err := time.ParseInLocation(dayLayout, last, loc)
	if err != nil || lastDay.Before(from) {
		return Digest{}, core.Invalid("date", "value", last)
	}
	now := s.clock.Now()
	to := lastDay.AddDate(0, 0, 1)
	if to.After(now) {
		to = now
	}
	sc, names, ok, err := scopeOf(ctx, r.Org, userID)
	if err != nil {
		return Digest{}, err
	}
	if !ok {
		return Digest{}, core.Forbidden("digest_no_scope")
	}
	d := Digest{First: from, Last: lastDay, Scope: sc, ScopeNames: names}
	chartFrom := lastDay.AddDate(0, 0, -13)
	if from.Before(chartFrom) {
		chartFrom = from
	}

	// Incidents.
	incs, err := r.Incidents.IncidentsSince(ctx, chartFrom)
	if err != nil {
		return Digest{}, err
	}
	perDay := map[string]int{}
	var ackSum, resSum time.Duration
	inScope := map[int64]bool{}
	for _, i := range incs {
		if !sc.has(i.Unit) {
			continue
		}
		inScope[i.ID] = true
		perDay[i.CreatedAt.In(loc).Format(dayLayout)]++
		if within(&i.CreatedAt, from, to) {
			d.Opened++
			if i.AckedAt != nil {
				d.Acked++
				ackSum += i.AckedAt.Sub(i.CreatedAt)
			}
		}
		if within(i.ResolvedAt, from, to) {
			d.Closed++
			d.Resolved++
			resSum += i.ResolvedAt.Sub(i.CreatedAt)
		}
		if i.ResolvedAt == nil && i.ClosedAt == nil && i.State != incident.StateResolved && i.State != incident.StateClosed && i.Level >= 1 && i.Level <= 4 {
			d.OpenByLevel[i.Level]++
		}
	}
	if d.Acked > 0 {
		d.MTTA = ackSum / time.Duration(d.Acked)
	}
	if d.Resolved > 0 {
		d.MTTR = resSum / time.Duration(d.Resolved)
	}
	escs, err := r.Incidents.EventIncidents(ctx, "escalate", from, to)
	if err != nil {
		return Digest{}, err
	}
	for _, id := range escs {
		if inScope[id] {
			d.Escalations++
		}
	}

	// Tickets: due today, overdue, and the SLA series.
	tks, err := r.Work.TicketsSince(ctx, chartFrom)
	if err != nil {
		return Digest{}, err
	}
	today := s.cal.Midnight(now)
	sla := map[string][2]int{} // day → on time, total
	for _, t := range tks {
		if !sc.has(t.Unit) {
			continue
		}
		if t.State == "open" || t.State == "waiting" {
			if !t.DueAt.Before(today) && t.DueAt.Before(today.AddDate(0, 0, 1)) {
				d.TicketsDueToday++
			}
			if t.Overdue && t.State == "open" {
				d.TicketsOverdue++
			}
		}
		var when time.Time
		onTime := false
		switch {
		case t.AnsweredAt != nil:
			when, onTime = *t.AnsweredAt, !t.AnsweredAt.After(t.DueAt)
		case t.DueAt.Before(now) && t.State == "open":
			when = t.DueAt // fell due unanswered
		default:
			continue
		}
		k := when.In(loc).Format(dayLayout)
		v := sla[k]
		if onTime {
			v[0]++
		}
		v[1]++
		sla[k] = v
	}

	// Approvals pending for more than a day.
	reqs, err := r.Work.Requests(ctx, approval.Filter{Pending: true, Limit: 1000})
	if err != nil {
		return Digest{}, err
	}
	for _, q := range reqs {
		if q.State == approval.StatePending && now.Sub(q.CreatedAt) > 24*time.Hour && sc.has(q.Unit) {
			d.ApprovalsWaiting++
		}
	}

	// Inspections and backups are platform-wide: every manager sees them.
	runs, err := r.Work.Runs(ctx, 0, from, to, 10000)
	if err != nil {
		return Digest{}, err
	}
	for _, run := range runs {
		switch {
		case run.State == "done":
			d.InspectionsDone++
		case run.Missed:
			d.InspectionsMissed++
		default:
			d.InspectionsOpen++
		}
	}
	checks, err := r.Work.BackupChecks(ctx, 0, first, last)
	if err != nil {
		return Digest{}, err
	}
	for _, c := range checks {
		switch c.State {
		case "ok":
			d.BackupsOK++
		case "failed":
			d.BackupsFailed++
		case "missing", "pending":
			d.BackupsMissing++
		}
	}

	// On duty now.
	rots, err := r.Incidents.Rotations(ctx)
	if err != nil {
		return Digest{}, err
	}
	for _, rot := range rots {
		if rot.Unit != "" && !sc.has(rot.Unit) {
			continue
		}
		over, err := r.Incidents.Overrides(ctx, rot.Name)
		if err != nil {
			return Digest{}, err
		}
		sh := rot.ShiftAt(now, s.cal, over)
		line := rot.Name + ": " + sh.Primary
		if sh.Secondary != "" {
			line += " / " + sh.Secondary
		}
		d.OnDuty = append(d.OnDuty, line)
	}

	for i := 13; i >= 0; i-- {
		day := lastDay.AddDate(0, 0, -i)
		k := day.Format(dayLayout)
		p := Point{Day: day, Incidents: perDay[k], SLA: -1}
		if v := sla[k]; v[1] > 0 {
			p.SLA = v[0] * 100 / v[1]
		}
		d.Series = append(d.Series, p)
	}
	return d, nil
}

// managers lists every user with a digest scope who has not unsubscribed,
// and operators who subscribed.
func managers(ctx context.Context, tx Tx, dir OrgReader) ([]string, error) {
	var out []string
	for _, role := range []org.Role{org.RoleSysAdmin, org.RoleDistrictAdmin, org.RoleUnitAdmin, org.RoleOperator} {
		grants, err := dir.Holders(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			u := g.UserID
			if slices.Contains(out, u) {
				continue
			}
			sub, err := tx.DigestSubscription(ctx, u)
			if err != nil {
				return nil, err
			}
			wanted := role != org.RoleOperator // managers by default, operators when they subscribed
			if sub != nil {
				wanted = *sub
			}
			if wanted {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// SendDaily sends every manager, once each, the digest of the days since
// the previous working day (Monday's covers Friday to Sunday); nothing on
// days that are not working days.
func (s *Service) SendDaily(ctx context.Context, slot time.Time) (int, error) {
	if slot.IsZero() {
		slot = s.clock.Now()
	}
	if !s.cal.IsWorkday(slot) {
		return 0, nil
	}
	lastDay := s.cal.Midnight(slot).AddDate(0, 0, -1)
	firstDay := lastDay
	for i := 0; i < 30 && !s.cal.IsWorkday(firstDay); i++ {
		firstDay = firstDay.AddDate(0, 0, -1)
	}
	first, day := firstDay.Format(dayLayout), lastDay.Format(dayLayout)
	sent := 0
	err := s.store.InTx(ctx, func(tx Tx, r Reads) error {
		users, err := managers(ctx, tx, r.Org)
		if err != nil {
			return err
		}
		for _, u := range users {
			isNew, err := tx.MarkDigestSent(ctx, s.cal.Midnight(slot).Format(dayLayout), u, s.clock.Now())
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			d, err := s.build(ctx, r, u, first, day)
			if errors.Is(err, core.ErrForbidden) {
				continue
			} else if err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: "digest:" + day + ":" + u, To: core.Recipient{User: u}, Body: d}); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

// Subscribe turns the daily digest on or off for the actor.
func (s *Service) Subscribe(ctx context.Context, actor core.Actor, on bool) error {
	return s.store.InTx(ctx, func(tx Tx, r Reads) error {
		_, _, ok, err := scopeOf(ctx, r.Org, actor.UserID)
		if err != nil {
			return err
		}
		if !ok && on {
			return core.Forbidden("digest_no_scope")
		}
		if err := tx.SetDigestSubscription(ctx, actor.UserID, on); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "digest.subscribe", "user:"+actor.UserID, nil, on)
	})
}

// Today is the local date of now.
func (s *Service) Today() string { return s.cal.Midnight(s.clock.Now()).Format(dayLayout) }

// Yesterday is the local date before today.
func (s *Service) Yesterday() string {
	return s.cal.Midnight(s.clock.Now()).AddDate(0, 0, -1).Format(dayLayout)
}
