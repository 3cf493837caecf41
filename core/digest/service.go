package digest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

func (s *Service) midnight(t time.Time) time.Time {
	t = t.In(s.cal.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.cal.Location())
}

// scopeOf is a user's widest manager scope; ok is false for non-managers.
// Operators who subscribed see the city.
func scopeOf(ctx context.Context, tx Tx, userID string) (Scope, []string, bool, error) {
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
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		d, err = s.build(ctx, tx, userID, first, last)
		return err
	})
	return d, err
}

func (s *Service) build(ctx context.Context, tx Tx, userID, first, last string) (Digest, error) {
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
	day := first
	if last != first {
		day = first + " ~ " + last
	}
	sc, names, ok, err := scopeOf(ctx, tx, userID)
	if err != nil {
		return Digest{}, err
	}
	if !ok {
		return Digest{}, core.Forbidden("digest_no_scope")
	}
	d := Digest{Day: day, Scope: sc, ScopeNames: names}
	chartFrom := lastDay.AddDate(0, 0, -13)
	if from.Before(chartFrom) {
		chartFrom = from
	}

	// Incidents.
	incs, err := tx.IncidentsSince(ctx, chartFrom)
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
	escs, err := tx.EventIncidents(ctx, "escalate", from, to)
	if err != nil {
		return Digest{}, err
	}
	for _, id := range escs {
		if inScope[id] {
			d.Escalations++
		}
	}

	// Tickets: due today, overdue, and the SLA series.
	tks, err := tx.TicketsSince(ctx, chartFrom)
	if err != nil {
		return Digest{}, err
	}
	today := s.midnight(now)
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
	reqs, err := tx.Requests(ctx, approval.Filter{Pending: true, Limit: 1000})
	if err != nil {
		return Digest{}, err
	}
	for _, r := range reqs {
		if r.State == approval.StatePending && now.Sub(r.CreatedAt) > 24*time.Hour && sc.has(r.Unit) {
			d.ApprovalsWaiting++
		}
	}

	// Inspections and backups are platform-wide: every manager sees them.
	runs, err := tx.Runs(ctx, 0, from, to, 10000)
	if err != nil {
		return Digest{}, err
	}
	for _, r := range runs {
		switch {
		case r.State == "done":
			d.InspectionsDone++
		case r.Missed:
			d.InspectionsMissed++
		default:
			d.InspectionsOpen++
		}
	}
	checks, err := tx.BackupChecks(ctx, 0, first, last)
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
	rots, err := tx.Rotations(ctx)
	if err != nil {
		return Digest{}, err
	}
	for _, r := range rots {
		if r.Unit != "" && !sc.has(r.Unit) {
			continue
		}
		over, err := tx.Overrides(ctx, r.Name)
		if err != nil {
			return Digest{}, err
		}
		sh := r.ShiftAt(now, s.cal, over)
		line := r.Name + ": " + sh.Primary
		if sh.Secondary != "" {
			line += " / " + sh.Secondary
		}
		d.OnDuty = append(d.OnDuty, line)
	}

	for i := 13; i >= 0; i-- {
		k := lastDay.AddDate(0, 0, -i).Format(dayLayout)
		p := Point{Day: k, Incidents: perDay[k], SLA: -1}
		if v := sla[k]; v[1] > 0 {
			p.SLA = v[0] * 100 / v[1]
		}
		d.Series = append(d.Series, p)
	}
	return d, nil
}

// Data flattens a digest into notice data.
func Data(d Digest) map[string]string {
	itoa := strconv.Itoa
	series := make([]string, len(d.Series))
	for i, p := range d.Series {
		series[i] = fmt.Sprintf("%s:%d:%d", p.Day, p.Incidents, p.SLA)
	}
	return map[string]string{
		"day": d.Day, "scope": d.Scope.Kind, "scope_names": strings.Join(d.ScopeNames, "、"),
		"opened": itoa(d.Opened), "closed": itoa(d.Closed),
		"open_l1": itoa(d.OpenByLevel[1]), "open_l2": itoa(d.OpenByLevel[2]), "open_l3": itoa(d.OpenByLevel[3]), "open_l4": itoa(d.OpenByLevel[4]),
		"mtta": d.MTTA.Round(time.Minute).String(), "mttr": d.MTTR.Round(time.Minute).String(),
		"acked": itoa(d.Acked), "resolved": itoa(d.Resolved), "escalations": itoa(d.Escalations),
		"tickets_due": itoa(d.TicketsDueToday), "tickets_overdue": itoa(d.TicketsOverdue),
		"approvals_waiting": itoa(d.ApprovalsWaiting),
		"inspections_done":  itoa(d.InspectionsDone), "inspections_missed": itoa(d.InspectionsMissed), "inspections_open": itoa(d.InspectionsOpen),
		"backups_ok": itoa(d.BackupsOK), "backups_failed": itoa(d.BackupsFailed), "backups_missing": itoa(d.BackupsMissing),
		"on_duty": strings.Join(d.OnDuty, "\n"), "series": strings.Join(series, ","),
	}
}

// ParseSeries reads the series back from notice data.
func ParseSeries(s string) []Point {
	var out []Point
	for _, part := range strings.Split(s, ",") {
		f := strings.Split(part, ":")
		if len(f) != 3 {
			continue
		}
		n, err1 := strconv.Atoi(f[1])
		p, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Point{Day: f[0], Incidents: n, SLA: p})
	}
	return out
}

// managers lists every user with a digest scope who has not unsubscribed,
// and operators who subscribed.
func managers(ctx context.Context, tx Tx) ([]string, error) {
	var out []string
	for _, role := range []org.Role{org.RoleSysAdmin, org.RoleDistrictAdmin, org.RoleUnitAdmin, org.RoleOperator} {
		users, err := org.HoldersOf(ctx, tx, role)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
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
	lastDay := s.midnight(slot).AddDate(0, 0, -1)
	firstDay := lastDay
	for i := 0; i < 30 && !s.cal.IsWorkday(firstDay); i++ {
		firstDay = firstDay.AddDate(0, 0, -1)
	}
	first, day := firstDay.Format(dayLayout), lastDay.Format(dayLayout)
	sent := 0
	err := s.store.InTx(ctx, func(tx Tx) error {
		users, err := managers(ctx, tx)
		if err != nil {
			return err
		}
		for _, u := range users {
			isNew, err := tx.MarkDigestSent(ctx, s.midnight(slot).Format(dayLayout), u, s.clock.Now())
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			d, err := s.build(ctx, tx, u, first, day)
			if errors.Is(err, core.ErrForbidden) {
				continue
			} else if err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: "digest:" + day + ":" + u, To: core.Recipient{User: u}, Body: core.Legacy{Kind: NoticeDigest, Data: Data(d)}}); err != nil {
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
	return s.store.InTx(ctx, func(tx Tx) error {
		_, _, ok, err := scopeOf(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if !ok && on {
			return core.Forbidden("digest_no_scope")
		}
		if err := tx.SetDigestSubscription(ctx, actor.UserID, on); err != nil {
			return err
		}
		return tx.Audit(ctx, core.AuditEntry{At: s.clock.Now(), Actor: actor.UserID, Platform: actor.Platform,
			Action: "digest.subscribe", Entity: "user:" + actor.UserID, After: strconv.FormatBool(on)})
	})
}

// Today is the local date of now.
func (s *Service) Today() string { return s.midnight(s.clock.Now()).Format(dayLayout) }

// Yesterday is the local date before today.
func (s *Service) Yesterday() string {
	return s.midnight(s.clock.Now()).AddDate(0, 0, -1).Format(dayLayout)
}
