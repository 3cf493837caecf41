package incident

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Alert timer kinds and notices.
const (
	TimerAlertFlush   = "alert:flush"  // a coalesced card update is due
	TimerAlertNon200  = "alert:non200" // an HTTP-availability alert may have fired for too long
	NoticeNoticeDraft = "incident.notice_draft"
	NoticeNoticeDone  = "update.incident.notice"
	NoticePublic      = "incident.public_notice"
)

// Alert is one alert of a group, as Alertmanager sends it.
type Alert struct {
	Fingerprint  string
	Status       string // firing | resolved
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// AlertGroup is one Alertmanager notification: the current state of a group.
type AlertGroup struct {
	Receiver          string
	GroupKey          string
	Status            string // firing | resolved (every alert resolved)
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            []Alert
	Truncated         int
}

// GroupRow is a stored alert group.
type GroupRow struct {
	GroupKey    string
	Receiver    string
	IncidentID  int64
	Labels      map[string]string
	Status      string
	Firing      int
	Resolved    int
	ExternalURL string
	HTTPKind    bool
	App         string
	Joint       bool
	UpdatedAt   time.Time
	NotifiedAt  *time.Time
	FlushDue    *time.Time // a coalesced update is scheduled for then
}

// AlertTx is what alert ingestion needs beyond Tx. A group is saved before
// its alerts.
type AlertTx interface {
	// LockKey serialises work on one key until the transaction ends.
	LockKey(ctx context.Context, key string) error
	// AlertGroup returns a stored group; lock takes its row lock.
	AlertGroup(ctx context.Context, groupKey string, lock bool) (GroupRow, error)
	AlertGroupOf(ctx context.Context, incidentID int64) (GroupRow, error)
	// LockAlertGroup returns a stored group and its incident, both row-locked,
	// in one round trip.
	LockAlertGroup(ctx context.Context, groupKey string) (GroupRow, Incident, error)
	SaveAlertGroup(ctx context.Context, g GroupRow) error
	// SaveAlertGroupAtCommit upserts the group with the transaction's last
	// writes (one round trip with its notices and timers).
	SaveAlertGroupAtCommit(ctx context.Context, g GroupRow) error
	// SaveAlerts upserts alerts and returns the group's firing and resolved counts
	// and the earliest start of its firing alerts matching kindLabel=kindValue.
	SaveAlerts(ctx context.Context, groupKey string, alerts []Alert, at time.Time, kindLabel, kindValue string) (firing, resolved int, httpSince *time.Time, err error)
}

// AlertRoute sends matching alerts to a rotation, channel and unit.
type AlertRoute struct {
	Match    map[string]string
	Rotation string
	Channel  string
	Unit     string
}

// AlertConfig tunes ingestion.
type AlertConfig struct {
	SeverityLevels map[string]int // severity label value → level
	LevelLabel     string         // a label overriding the level (1–4)
	Routes         []AlertRoute
	ReopenWindow   time.Duration // a resolved incident firing again within it reopens
	UpdateEvery    time.Duration // at most one chat update per incident per this
	HTTPKindLabel  string        // label marking HTTP-availability alerts …
	HTTPKindValue  string        // … and its value
	AppLabel       string        // label naming the app (access party paged)
	Non200After    time.Duration // firing this long → joint troubleshooting
}

// SetAlertConfig sets how alerts become incidents.
func (s *Service) SetAlertConfig(c AlertConfig) { s.alerts = c }

// IngestResult says what a notification did.
type IngestResult struct {
	IncidentID int64
	Created    bool
	Reopened   bool
	Resolved   bool
	Ignored    bool // every alert resolved and no incident to resolve
}

func (s *Service) alertLevel(labels map[string]string) int {
	if v, err := strconv.Atoi(labels[s.alerts.LevelLabel]); err == nil && v >= 1 && v <= 4 {
		return v
	}
	if l, ok := s.alerts.SeverityLevels[strings.ToLower(labels["severity"])]; ok {
		return l
	}
	return 3
}

func alertTitle(g AlertGroup, labels map[string]string) string {
	if t := g.CommonAnnotations["summary"]; t != "" {
		return t
	}
	parts := []string{labels["alertname"]}
	for _, k := range []string{"app", "job", "instance"} {
		if v := labels[k]; v != "" {
			parts = append(parts, v)
		}
	}
	t := strings.TrimSpace(strings.Join(parts, " "))
	if t == "" {
		t = "Alertmanager " + g.GroupKey
	}
	return t
}

func merged(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (s *Service) route(labels map[string]string) AlertRoute {
	for _, r := range s.alerts.Routes {
		ok := true
		for k, v := range r.Match {
			ok = ok && labels[k] == v
		}
		if ok {
			return r
		}
	}
	return AlertRoute{}
}

// Ingest applies one Alertmanager notification: the group's incident is
// created, reopened, updated or resolved, in one transaction. Repeated
// posts of the same state change nothing visible (at-least-once delivery).
func (s *Service) Ingest(ctx context.Context, g AlertGroup) (IngestResult, error) {
	var res IngestResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		res, err = s.ingest(ctx, tx, g)
		return err
	})
	return res, err
}

// IngestBatch applies several notifications in one transaction, in group
// key order (so concurrent batches take row locks in the same order). When
// the transaction fails, each notification is applied on its own, so one
// bad notification fails alone.
func (s *Service) IngestBatch(ctx context.Context, gs []AlertGroup) ([]IngestResult, []error) {
	res, errs := make([]IngestResult, len(gs)), make([]error, len(gs))
	order := make([]int, len(gs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(gs[a].GroupKey, gs[b].GroupKey) })
	err := s.store.InTx(ctx, func(tx Tx) error {
		for _, i := range order {
			r, err := s.ingest(ctx, tx, gs[i])
			if err != nil {
				return err
			}
			res[i] = r
		}
		return nil
	})
	if err == nil || len(gs) == 1 {
		for i := range errs {
			errs[i] = err
		}
		return res, errs
	}
	for _, i := range order {
		res[i], errs[i] = s.Ingest(ctx, gs[i])
	}
	return res, errs
}

// ingest applies one notification inside tx.
func (s *Service) ingest(ctx context.Context, tx Tx, g AlertGroup) (res IngestResult, err error) {
	now := s.clock.Now()
	// An existing group's row lock serialises its posts; a new group's
	// key is locked before looking again, so two first posts make one incident.
	row, inc, err := tx.LockAlertGroup(ctx, g.GroupKey)
	if errors.Is(err, core.ErrNotFound) {
		if err := tx.LockKey(ctx, "alert-group:"+g.GroupKey); err != nil {
			return res, err
		}
		row, inc, err = tx.LockAlertGroup(ctx, g.GroupKey)
	}
	found := err == nil
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return res, err
	}
	changed := false
	labels := merged(g.CommonLabels, g.GroupLabels)
	anyFiring := false
	for _, a := range g.Alerts {
		anyFiring = anyFiring || a.Status == "firing"
	}
	sys := core.Actor{UserID: core.SystemUser, Name: "Alertmanager", Platform: "alertmanager"}
	switch {
	case !found && !anyFiring:
		res.Ignored = true
		return res, nil
	case !found || (!inc.Open() && anyFiring && (inc.State == StateClosed || inc.ResolvedAt == nil || now.Sub(*inc.ResolvedAt) > s.alerts.ReopenWindow)):
		// A new incident for a new group, or for one that fired again long after.
		rt := s.route(labels)
		inc = Incident{Title: alertTitle(g, labels), Level: s.alertLevel(labels), State: StateDeclared,
			System: labels[s.alerts.AppLabel], Unit: rt.Unit, Channel: rt.Channel, Source: "alertmanager",
			DeclaredBy: core.SystemUser, CreatedAt: now, LastUpdateAt: now}
		if inc.System != "" {
			if _, err := tx.App(ctx, inc.System); err != nil {
				inc.System = "" // an app label opsbot does not know
			}
		}
		if inc.Rotation = rt.Rotation; inc.Rotation == "" {
			if inc.Rotation, err = s.rotationFor(ctx, tx, inc.Unit); err != nil {
				return res, err
			}
		}
		if _, err := s.open(ctx, tx, &inc, sys.UserID, "Alertmanager "+g.Receiver); err != nil {
			return res, err
		}
		row = GroupRow{GroupKey: g.GroupKey, Receiver: g.Receiver, IncidentID: inc.ID, Labels: g.GroupLabels, App: labels[s.alerts.AppLabel]}
		res.Created, changed = true, true
		if err := s.startClocks(ctx, tx, inc); err != nil {
			return res, err
		}
		if err := s.audit(ctx, tx, sys, "incident.declare", inc, nil); err != nil {
			return res, err
		}
	case !inc.Open() && anyFiring:
		// Firing again soon after it resolved: reopen it.
		before := inc
		inc.State, inc.ResolvedAt, inc.LastUpdateAt, inc.Escalation = StateDeclared, nil, now, 0
		if err := tx.InsertEvent(ctx, inc.ID, Event{At: now, Actor: sys.UserID, Kind: "reopen"}); err != nil {
			return res, err
		}
		if err := s.startClocks(ctx, tx, inc); err != nil {
			return res, err
		}
		res.Reopened, changed = true, true
		if err := s.audit(ctx, tx, sys, "incident.reopen", inc, before); err != nil {
			return res, err
		}
	}
	res.IncidentID = inc.ID
	row.UpdatedAt = now
	if row.Status == "" {
		row.Status = g.Status
	}
	if !found || res.Created {
		// The alerts' foreign key needs the group row first.
		if err := tx.SaveAlertGroup(ctx, row); err != nil {
			return res, err
		}
	}
	firing, resolved, httpSince, err := tx.SaveAlerts(ctx, g.GroupKey, g.Alerts, now, s.alerts.HTTPKindLabel, s.alerts.HTTPKindValue)
	if err != nil {
		return res, err
	}
	row.Status, row.Firing, row.Resolved, row.ExternalURL, row.UpdatedAt = g.Status, firing, resolved, g.ExternalURL, now
	row.HTTPKind = row.HTTPKind || httpSince != nil
	wasJoint := row.Joint
	if g.Status == "resolved" && firing == 0 && inc.Open() {
		before := inc
		inc.State, inc.ResolvedAt, inc.Summary = StateResolved, &now, "Alertmanager: all alerts resolved"
		if inc.AckedAt == nil {
			inc.AckedAt = &now
		}
		if err := tx.CancelTimers(ctx, inc.Ref(), ""); err != nil {
			return res, err
		}
		if err := tx.InsertEvent(ctx, inc.ID, Event{At: now, Actor: sys.UserID, Kind: "auto_resolve"}); err != nil {
			return res, err
		}
		if err := s.audit(ctx, tx, sys, "incident.auto_resolve", inc, before); err != nil {
			return res, err
		}
		res.Resolved, changed = true, true
		if wasJoint {
			if err := s.draftNotice(ctx, tx, inc, row, "recovery"); err != nil {
				return res, err
			}
		}
	}
	if changed {
		if err := tx.UpdateIncident(ctx, inc); err != nil {
			return res, err
		}
	}
	// The non-200 rule: an HTTP-availability alert firing this long makes
	// it joint troubleshooting with the app's access party.
	if httpSince != nil && !row.Joint && inc.Open() && s.alerts.Non200After > 0 {
		if err := tx.CancelTimers(ctx, inc.Ref(), TimerAlertNon200); err != nil {
			return res, err
		}
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerAlertNon200, Ref: inc.Ref(), DueAt: httpSince.Add(s.alerts.Non200After)}); err != nil {
			return res, err
		}
	}
	switch {
	case res.Created || res.Reopened:
		data := s.alertCard(ctx, tx, inc, row)
		first := []string{}
		if inc.Owner != "" {
			first = append(first, inc.Owner)
		}
		if err := s.notify(ctx, tx, NoticeCard, inc.CardRef(), first, s.channelOf(inc), data); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	case res.Resolved:
		if err := tx.Notify(ctx, core.Notice{Ref: inc.CardRef(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.alertCard(ctx, tx, inc, row)}}); err != nil {
			return res, err
		}
		if err := s.broadcast(ctx, tx, inc, sys, "auto_resolve", ""); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	case row.FlushDue != nil:
		// An update is already scheduled; it will show this state too.
	case row.NotifiedAt == nil || now.Sub(*row.NotifiedAt) >= s.alerts.UpdateEvery:
		if err := tx.Notify(ctx, core.Notice{Ref: inc.CardRef(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.alertCard(ctx, tx, inc, row)}}); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	default:
		// Coalesce: one update when the interval is over.
		due := row.NotifiedAt.Add(s.alerts.UpdateEvery)
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerAlertFlush, Ref: inc.Ref(), DueAt: due}); err != nil {
			return res, err
		}
		row.FlushDue = &due
	}
	return res, tx.SaveAlertGroupAtCommit(ctx, row)
}

// alertCard is the card data of an alert incident.
func (s *Service) alertCard(ctx context.Context, tx Tx, i Incident, g GroupRow) map[string]string {
	return s.liveCard(ctx, tx, i, map[string]string{"source": "alertmanager", "firing": strconv.Itoa(g.Firing),
		"resolved": strconv.Itoa(g.Resolved), "group_labels": labelText(g.Labels), "joint": boolStr(g.Joint), "external_url": g.ExternalURL})
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

// draftNotice posts a public-notice draft (outage or recovery) to the sys
// admins for approval (M 7.3.3 b).
func (s *Service) draftNotice(ctx context.Context, tx Tx, i Incident, g GroupRow, kind string) error {
	root, err := tx.Root(ctx)
	if err != nil {
		return err
	}
	admins, err := s.targets(ctx, tx, Incident{Unit: root.Code}, []string{string(org.RoleSysAdmin)})
	if err != nil {
		return err
	}
	appName := g.App
	if a, err := tx.App(ctx, g.App); err == nil {
		appName = a.Name
	}
	data := s.card(i, map[string]string{"notice": kind, "app": g.App, "app_name": appName,
		"since": i.CreatedAt.In(s.cal.Location()).Format("2006-01-02 15:04")})
	return s.notify(ctx, tx, NoticeNoticeDraft, i.Ref()+"#notice:"+kind, admins, "", data)
}

// HandleAlertTimer fires a coalesced card update or the non-200 rule.
func (s *Service) HandleAlertTimer(ctx context.Context, id int64) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		t, ok, err := tx.ClaimTimer(ctx, id, s.clock.Now())
		if err != nil || !ok {
			return err
		}
		var iid int64
		if _, err := fmtSscanf(t.Ref, "incident:%d", &iid); err != nil {
			return err
		}
		i, err := tx.Incident(ctx, iid, true)
		if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, iid)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		switch t.Kind {
		case TimerAlertFlush:
			g.NotifiedAt, g.FlushDue = &now, nil
			if err := tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.alertCard(ctx, tx, i, g)}}); err != nil {
				return err
			}
			return tx.SaveAlertGroup(ctx, g)
		case TimerAlertNon200:
			if !i.Open() || g.Joint || g.Firing == 0 {
				return nil
			}
			g.Joint = true
			// Page the app's access party and the operators.
			var to []string
			if g.App != "" {
				holders, err := tx.Holders(ctx, org.RoleAccessParty)
				if err != nil {
					return err
				}
				for _, h := range holders {
					if h.Scope == g.App {
						to = append(to, h.UserID)
					}
				}
			}
			ops, err := s.targets(ctx, tx, i, []string{"operator"})
			if err != nil {
				return err
			}
			to = append(to, ops...)
			s.addStakeholders(&i, to...)
			if err := tx.UpdateIncident(ctx, i); err != nil {
				return err
			}
			if err := tx.SaveAlertGroup(ctx, g); err != nil {
				return err
			}
			if err := tx.InsertEvent(ctx, i.ID, Event{At: now, Actor: core.SystemUser, Kind: "joint", Body: strings.Join(to, ",")}); err != nil {
				return err
			}
			if err := s.notify(ctx, tx, NoticeCard, i.CardRef(), to, "", s.alertCard(ctx, tx, i, g)); err != nil {
				return err
			}
			if err := tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: core.Legacy{Kind: NoticeUpdate, Data: s.alertCard(ctx, tx, i, g)}}); err != nil {
				return err
			}
			if err := s.draftNotice(ctx, tx, i, g, "outage"); err != nil {
				return err
			}
			return s.audit(ctx, tx, core.SystemActor(), "incident.joint", i, nil)
		}
		return nil
	})
}

// PublishNotice approves a drafted public notice: a sys admin only. The
// notice goes to the incident's channel and the draft cards are updated.
func (s *Service) PublishNotice(ctx context.Context, actor core.Actor, id int64, kind string) error {
	if kind != "outage" && kind != "recovery" {
		return core.Invalid("notice_kind", "value", kind)
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		grants, err := tx.GrantsOf(ctx, actor.UserID)
		if err != nil {
			return err
		}
		if !org.HasRole(grants, org.RoleSysAdmin) {
			return core.Forbidden("need_sys_admin", "action", "incident.notice")
		}
		i, err := tx.Incident(ctx, id, true)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("incident_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, id)
		if err != nil {
			return err
		}
		ref := i.Ref() + "#notice:" + kind
		events, err := tx.Events(ctx, id)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Kind == "notice" && e.Body == kind {
				return core.AlreadyDecided("notice_published", "id", itoa(id), "by", e.Actor, "at", e.At.In(s.cal.Location()).Format("2006-01-02 15:04"))
			}
		}
		appName := g.App
		if a, err := tx.App(ctx, g.App); err == nil {
			appName = a.Name
		}
		data := s.card(i, map[string]string{"notice": kind, "app": g.App, "app_name": appName, "by": actor.UserID, "by_name": actor.Name,
			"since": i.CreatedAt.In(s.cal.Location()).Format("2006-01-02 15:04"), "published": "1"})
		if err := tx.InsertEvent(ctx, id, Event{At: s.clock.Now(), Actor: actor.UserID, Kind: "notice", Body: kind}); err != nil {
			return err
		}
		if err := tx.Notify(ctx, core.Notice{Ref: ref, Body: core.Legacy{Kind: NoticeNoticeDone, Data: data}}); err != nil {
			return err
		}
		if ch := s.channelOf(i); ch != "" {
			if err := tx.Notify(ctx, core.Notice{Ref: i.Ref(), To: core.Recipient{Channel: ch}, Body: core.Legacy{Kind: NoticePublic, Data: data}}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, "incident.notice."+kind, i, nil)
	})
}

// SilenceTarget is what an Alertmanager silence needs: the group's matchers.
type SilenceTarget struct {
	Incident Incident
	Labels   map[string]string
	Receiver string
}

// SilenceTarget returns the matchers of an alert incident's group.
func (s *Service) SilenceTarget(ctx context.Context, id int64) (SilenceTarget, error) {
	var t SilenceTarget
	err := s.store.InTx(ctx, func(tx Tx) error {
		i, err := tx.Incident(ctx, id, false)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("incident_not_found", "id", itoa(id))
		} else if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.Invalid("not_alert_incident", "id", itoa(id))
		} else if err != nil {
			return err
		}
		t = SilenceTarget{Incident: i, Labels: g.Labels, Receiver: g.Receiver}
		return nil
	})
	return t, err
}

// RecordSilence notes on the incident that actor silenced it until until.
func (s *Service) RecordSilence(ctx context.Context, actor core.Actor, id int64, silenceID string, until time.Time) (Incident, error) {
	return s.change(ctx, actor, id, "incident.silence", func(tx Tx, i *Incident) (string, string, error) {
		return "silence", silenceID + " → " + until.In(s.cal.Location()).Format("2006-01-02 15:04"), nil
	})
}
