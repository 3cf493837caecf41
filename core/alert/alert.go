// Package alert holds the rules that turn Alertmanager notifications into
// incidents (M 7.3.2, M 7.3.3, W 9.2): one incident per alert group; a
// group firing again within the reopen window reopens its incident, after
// it a new one; a group whose alerts all resolved resolves its incident;
// card updates are coalesced; an HTTP-availability alert firing longer
// than Non200After makes it joint troubleshooting with the app's access
// party and drafts a public notice for the sys admins to publish (the
// non-200 rule); a slow-response alert (Config.Slow) pages the access
// party the same way, without a notice (M 7.3.3 c); a silence is noted on
// the incident.
//
// The incidents themselves change through incident.Ops, inside the
// alert's transaction. The HTTP receiver and the worker pool that batches
// notifications are plumbing, in package alerts.
package alert

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// Timer kinds.
const (
	TimerFlush  = "alert:flush"  // a coalesced card update is due
	TimerNon200 = "alert:non200" // an HTTP-availability alert may have fired for too long
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

// Group is one Alertmanager notification: the current state of a group.
type Group struct {
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
	// Top is what the card shows of the group's alerts, in CardAlerts'
	// order: read with the group (AlertGroupOf), never saved.
	Top []Alert
}

// MaxCardAlerts is how many alerts an incident card shows at most.
const MaxCardAlerts = 3

// CardAlerts is the first MaxCardAlerts of alerts a card shows: firing
// ones first, each status by start time then fingerprint.
func CardAlerts(alerts []Alert) []Alert {
	out := slices.Clone(alerts)
	slices.SortFunc(out, func(a, b Alert) int {
		if fa, fb := a.Status == "firing", b.Status == "firing"; fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	return out[:min(len(out), MaxCardAlerts)]
}

// Tx is what alert ingestion needs inside one transaction: alert groups
// and their alerts (a group is saved before its alerts), and the org
// look-ups App, GrantsOf and Holders.
type Tx interface {
	core.Tx
	core.PendingTimers
	// KeepTimer makes t the one pending timer of its kind and ref: pending
	// ones due at another time are cancelled, and t is scheduled unless
	// one due at its time is pending already (nothing is written then).
	KeepTimer(ctx context.Context, t core.Timer) error
	// LockKey serialises work on one key until the transaction ends.
	LockKey(ctx context.Context, key string) error
	// LockAlertGroups returns the stored groups of keys and their incidents
	// (by id), row-locked in the one order every path takes (each group,
	// then its incident, in key order), in one round trip. Only
	// the keys before the first with no group are locked (a group stored
	// meanwhile is locked when the batch comes to it, in key order); a key
	// with no group, or after one, is absent.
	LockAlertGroups(ctx context.Context, keys []string) (map[string]GroupRow, map[int64]incident.Incident, error)
	AlertGroupOf(ctx context.Context, incidentID int64) (GroupRow, error)
	// SaveAlertGroup upserts the group with the transaction's next writes:
	// before the next read of groups or alerts, else with its notices and
	// timers at commit (no round trip of its own).
	SaveAlertGroup(ctx context.Context, g GroupRow) error
	// SaveAlerts upserts the alerts of several stored groups (distinct
	// keys, each locked by this transaction) in one statement and returns, per group, its firing and
	// resolved counts and the earliest start of its firing alerts matching
	// kindLabel=kindValue. When the counts need no read (the store knows
	// the groups' alerts) the write goes with the transaction's next
	// writes, like SaveAlertGroup's; a read of alerts in the same
	// transaction sees it either way.
	SaveAlerts(ctx context.Context, groups []GroupAlerts, at time.Time, kindLabel, kindValue string) ([]AlertCounts, error)
	App(ctx context.Context, code string) (org.App, error)
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
}

// GroupAlerts are the alerts of one notification, for SaveAlerts.
type GroupAlerts struct {
	GroupKey string
	Alerts   []Alert
}

// AlertCounts is what SaveAlerts counts of a group's stored alerts.
type AlertCounts struct {
	Firing, Resolved int
	HTTPSince        *time.Time // earliest start of a firing HTTP-availability alert
}

// lockGroup returns one stored group and its incident, row-locked
// (core.ErrNotFound when there is no group).
func lockGroup(ctx context.Context, tx Tx, key string) (GroupRow, incident.Incident, error) {
	gs, incs, err := tx.LockAlertGroups(ctx, []string{key})
	if err != nil {
		return GroupRow{}, incident.Incident{}, err
	}
	g, ok := gs[key]
	if !ok {
		return g, incident.Incident{}, fmt.Errorf("alert group %q: %w", key, core.ErrNotFound)
	}
	i, ok := incs[g.IncidentID]
	if !ok {
		return g, i, fmt.Errorf("incident %d of alert group %q: %w", g.IncidentID, key, core.ErrNotFound)
	}
	return g, i, nil
}

// Store runs alert work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Incidents binds the incident operations to the alert's transaction (the
// incident service).
type Incidents interface {
	In(tx core.Tx) (incident.Ops, error)
}

// Route sends matching alerts to a rotation, channel and unit.
type Route struct {
	Match    map[string]string
	Rotation string
	Channel  string
	Unit     string
}

// Config tunes ingestion.
type Config struct {
	SeverityLevels map[string]int // severity label value → level
	LevelLabel     string         // a label overriding the level (1–4)
	Routes         []Route
	ReopenWindow   time.Duration // a resolved incident firing again within it reopens
	UpdateEvery    time.Duration // at most one chat update per incident per this
	HTTPKindLabel  string        // label marking HTTP-availability alerts …
	HTTPKindValue  string        // … and its value
	AppLabel       string        // label naming the app (access party paged)
	Non200After    time.Duration // firing this long → joint troubleshooting
	// Slow marks slow-response alerts (M 7.3.3 c): an alert is slow when
	// one of these labels matches its regular expression (anchored).
	Slow map[string]string
	// SlowAfter: a slow-response alert firing this long is joint
	// troubleshooting (0: at once, its rule's "for" having waited).
	SlowAfter time.Duration
}

// DefaultConfig is the ingestion of DESIGN.
// ResolvedSummary is the summary of an incident Alertmanager resolved
// (all its alerts resolved): a stable marker, not a text; the bot renders
// it in the reader's language (rows stored before carry the same words).
const ResolvedSummary = "Alertmanager: all alerts resolved"

func DefaultConfig() Config {
	return Config{SeverityLevels: map[string]int{"critical": 2, "warning": 3, "info": 4}, LevelLabel: "level",
		ReopenWindow: 30 * time.Minute, UpdateEvery: 30 * time.Second, HTTPKindLabel: "kind", HTTPKindValue: "http_status",
		AppLabel: "app", Non200After: 10 * time.Minute,
		Slow: map[string]string{"alertname": "SlowResponse|HighLatency|AppSlowResponse", "kind": "slow|slow_response"}}
}

// Service applies alert notifications to incidents.
type Service struct {
	store     Store
	clock     core.Clock
	cal       *calendar.Calendar
	cfg       Config
	incidents Incidents
	slow      map[string]*regexp.Regexp
}

// NewService returns the alert service. The Slow expressions must compile
// (configs validates them); one that does not is an error of the caller.
func NewService(store Store, clock core.Clock, cal *calendar.Calendar, cfg Config, incidents Incidents) *Service {
	slow := map[string]*regexp.Regexp{}
	for label, expr := range cfg.Slow {
		slow[label] = regexp.MustCompile("^(?:" + expr + ")$")
	}
	return &Service{store: store, clock: clock, cal: cal, cfg: cfg, incidents: incidents, slow: slow}
}

// slowSince is the earliest start of g's firing slow-response alerts (M
// 7.3.3 c), nil when none is firing.
func (s *Service) slowSince(g Group) *time.Time {
	var since *time.Time
	for _, a := range g.Alerts {
		if a.Status != "firing" {
			continue
		}
		labels := merged(g.CommonLabels, a.Labels)
		for label, re := range s.slow {
			if v, ok := labels[label]; ok && re.MatchString(v) {
				if since == nil || a.StartsAt.Before(*since) {
					at := a.StartsAt
					since = &at
				}
				break
			}
		}
	}
	return since
}

// jointDue is when the group becomes joint troubleshooting: an
// HTTP-availability alert firing Non200After, a slow-response alert
// firing SlowAfter, whichever comes first.
func (s *Service) jointDue(httpSince, slowSince *time.Time) (time.Time, bool) {
	var due time.Time
	ok := false
	if httpSince != nil && s.cfg.Non200After > 0 {
		due, ok = httpSince.Add(s.cfg.Non200After), true
	}
	if slowSince != nil {
		if d := slowSince.Add(s.cfg.SlowAfter); !ok || d.Before(due) {
			due, ok = d, true
		}
	}
	return due, ok
}

// IngestResult says what a notification did.
type IngestResult struct {
	IncidentID int64
	Created    bool
	Reopened   bool
	Resolved   bool
	Ignored    bool // every alert resolved and no incident to resolve
}

func (s *Service) level(labels map[string]string) int {
	if v, err := strconv.Atoi(labels[s.cfg.LevelLabel]); err == nil && v >= 1 && v <= 4 {
		return v
	}
	if l, ok := s.cfg.SeverityLevels[strings.ToLower(labels["severity"])]; ok {
		return l
	}
	return 3
}

func title(g Group, labels map[string]string) string {
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

func (s *Service) route(labels map[string]string) Route {
	for _, r := range s.cfg.Routes {
		ok := true
		for k, v := range r.Match {
			ok = ok && labels[k] == v
		}
		if ok {
			return r
		}
	}
	return Route{}
}

// ingestActor is who changes incidents for Alertmanager.
func ingestActor() core.Actor {
	return core.Actor{UserID: core.SystemUser, Name: "Alertmanager", Platform: "alertmanager"}
}

// Ingest applies one Alertmanager notification: the group's incident is
// created, reopened, updated or resolved, in one transaction. Repeated
// posts of the same state change nothing visible (at-least-once delivery).
func (s *Service) Ingest(ctx context.Context, g Group) (IngestResult, error) {
	var res IngestResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		res, err = s.ingest(ctx, tx, g, nil, nil)
		return err
	})
	return res, err
}

// preloaded is what a batch read and wrote for one notification before
// applying it: its stored group and incident, locked, and its alerts,
// saved and counted.
type preloaded struct {
	row    GroupRow
	inc    incident.Incident
	counts AlertCounts
}

// preload locks the batch's stored groups and their incidents in one
// round trip and saves the alerts of their first notification in the
// batch (order holds each group's first: IngestBatch's first round) in one
// statement. A notification of a group not stored yet gets nil and goes
// the one-at-a-time way.
func (s *Service) preload(ctx context.Context, tx Tx, gs []Group, order []int) ([]*preloaded, error) {
	pre := make([]*preloaded, len(gs))
	keys := make([]string, len(order))
	for n, i := range order {
		keys[n] = gs[i].GroupKey
	}
	rows, incs, err := tx.LockAlertGroups(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		row, ok := rows[gs[i].GroupKey]
		if !ok {
			continue
		}
		inc, ok := incs[row.IncidentID]
		if !ok {
			continue
		}
		pre[i] = &preloaded{row: row, inc: inc}
	}
	return s.saveAlerts(ctx, tx, gs, order, pre)
}

// saveAlerts saves, in one statement, the alerts of the notifications
// (these, in key order) that have a state to start from (pre), and sets
// their counts.
func (s *Service) saveAlerts(ctx context.Context, tx Tx, gs []Group, these []int, pre []*preloaded) ([]*preloaded, error) {
	var save []GroupAlerts
	var saved []int
	for _, i := range these {
		if pre[i] != nil {
			save = append(save, GroupAlerts{GroupKey: gs[i].GroupKey, Alerts: gs[i].Alerts})
			saved = append(saved, i)
		}
	}
	if len(save) == 0 {
		return pre, nil
	}
	counts, err := tx.SaveAlerts(ctx, save, s.clock.Now(), s.cfg.HTTPKindLabel, s.cfg.HTTPKindValue)
	if err != nil {
		return nil, err
	}
	for n, i := range saved {
		pre[i].counts = counts[n]
	}
	return pre, nil
}

// IngestBatch applies several notifications in one transaction, in group
// key order (so concurrent batches take row locks in the same order). A
// group posted more than once in the batch is applied in rounds: every
// group's first notification in the first round, its second in the next,
// and so on; a later round's notifications are applied on the state the
// round before left in memory (their groups are locked by then), their
// alerts saved in one statement for the round; one of a group an earlier
// notification left unstored (all resolved: ignored) is applied on its own
// after the commit, since locking its new key now would take a lock out of
// key order. When the transaction fails, each notification is applied on
// its own, so one bad notification fails alone.
func (s *Service) IngestBatch(ctx context.Context, gs []Group) ([]IngestResult, []error) {
	res, errs := make([]IngestResult, len(gs)), make([]error, len(gs))
	order := make([]int, len(gs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(gs[a].GroupKey, gs[b].GroupKey) })
	var alone []int
	err := s.store.InTx(ctx, func(tx Tx) error {
		left := order
		alone = alone[:0]
		applied := map[string]*preloaded{} // each group's state after its last notification applied
		for round := 0; len(left) > 0; round++ {
			this, next := firsts(gs, left)
			var pre []*preloaded
			var err error
			if round == 0 {
				pre, err = s.preload(ctx, tx, gs, this)
			} else {
				pre, err = s.carry(ctx, tx, gs, this, applied)
			}
			if err != nil {
				return err
			}
			for _, i := range this {
				if round > 0 && pre[i] == nil {
					alone = append(alone, i)
					continue
				}
				after := &preloaded{}
				r, err := s.ingest(ctx, tx, gs[i], pre[i], after)
				if err != nil {
					return err
				}
				res[i] = r
				if after.row.GroupKey != "" {
					applied[gs[i].GroupKey] = after
				}
			}
			left = next
		}
		return nil
	})
	if err == nil {
		for _, i := range alone {
			res[i], errs[i] = s.Ingest(ctx, gs[i])
		}
		return res, errs
	}
	if len(gs) == 1 {
		errs[0] = err
		return res, errs
	}
	for _, i := range order {
		res[i], errs[i] = s.Ingest(ctx, gs[i])
	}
	return res, errs
}

// firsts splits notifications (indexes into gs, in key order) into each
// group's first and the rest, both still in key order.
func firsts(gs []Group, order []int) (first, rest []int) {
	for n, i := range order {
		if n > 0 && gs[order[n-1]].GroupKey == gs[i].GroupKey {
			rest = append(rest, i)
		} else {
			first = append(first, i)
		}
	}
	return first, rest
}

// carry prepares a later round: a notification of a group applied
// earlier in the batch starts from the state that left (its rows are
// locked by this transaction already), with its alerts saved in one
// statement for the round. One of a group not stored yet (its earlier
// notification was ignored) gets nil: IngestBatch applies it alone after
// the commit.
func (s *Service) carry(ctx context.Context, tx Tx, gs []Group, these []int, applied map[string]*preloaded) ([]*preloaded, error) {
	pre := make([]*preloaded, len(gs))
	for _, i := range these {
		st, ok := applied[gs[i].GroupKey]
		if !ok {
			continue
		}
		pre[i] = &preloaded{row: st.row, inc: st.inc}
	}
	return s.saveAlerts(ctx, tx, gs, these, pre)
}

// stateOf is what an alert incident's card shows of its group: its
// counts and labels, and its firing alerts among g.Top (its resolved ones
// when none fire), with how many more there are.
func stateOf(g GroupRow) *incident.AlertState {
	a := &incident.AlertState{Firing: g.Firing, Resolved: g.Resolved, Labels: g.Labels, Joint: g.Joint, ExternalURL: g.ExternalURL}
	total := g.Resolved
	if len(g.Top) > 0 && g.Top[0].Status == "firing" {
		total = g.Firing
	}
	for _, al := range g.Top {
		if len(a.Alerts) == MaxCardAlerts || len(g.Top) > 0 && al.Status != g.Top[0].Status {
			break
		}
		a.Alerts = append(a.Alerts, itemOf(al))
	}
	a.More = max(0, total-len(a.Alerts))
	return a
}

// itemOf is what a card shows of one alert: the description annotation
// (the summary when there is none) and the runbook annotation
// (runbook_url, else runbook).
func itemOf(a Alert) incident.AlertItem {
	desc := a.Annotations["description"]
	if desc == "" {
		desc = a.Annotations["summary"]
	}
	runbook := a.Annotations["runbook_url"]
	if runbook == "" {
		runbook = a.Annotations["runbook"]
	}
	return incident.AlertItem{Name: a.Labels["alertname"], Description: desc, StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL, Runbook: runbook}
}

// CardState is what the card of alert incident incidentID shows of its
// group, read inside tx (incident.AlertCards): a person's change (an
// acknowledgement, an assignment) refreshes the card with its counts,
// labels and silence buttons still on. Nil when tx is not an alert
// transaction or the incident has no group.
func (s *Service) CardState(ctx context.Context, tx core.Tx, incidentID int64) *incident.AlertState {
	atx, ok := tx.(Tx)
	if !ok {
		return nil
	}
	g, err := atx.AlertGroupOf(ctx, incidentID)
	if err != nil {
		return nil
	}
	return stateOf(g)
}

// ingest applies one notification inside tx; pre, when set, is its group
// already locked and its alerts already saved (preload, carry). after,
// when set, is given the group's row and incident as this notification
// leaves them (untouched when it was ignored).
func (s *Service) ingest(ctx context.Context, tx Tx, g Group, pre, after *preloaded) (res IngestResult, err error) {
	ops, err := s.incidents.In(tx)
	if err != nil {
		return res, err
	}
	now := s.clock.Now()
	// An existing group's row lock serialises its posts; a new group's
	// key is locked before looking again, so two first posts make one incident.
	var row GroupRow
	var inc incident.Incident
	if pre != nil {
		row, inc = pre.row, pre.inc
	} else {
		row, inc, err = lockGroup(ctx, tx, g.GroupKey)
		if errors.Is(err, core.ErrNotFound) {
			if err := tx.LockKey(ctx, "alert-group:"+g.GroupKey); err != nil {
				return res, err
			}
			row, inc, err = lockGroup(ctx, tx, g.GroupKey)
		}
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
	sys := ingestActor()
	switch {
	case !found && !anyFiring:
		res.Ignored = true
		return res, nil
	case !found || (!inc.Open() && anyFiring && (inc.State == incident.StateClosed || inc.ResolvedAt == nil || now.Sub(*inc.ResolvedAt) > s.cfg.ReopenWindow)):
		// A new incident for a new group, or for one that fired again long after.
		rt := s.route(labels)
		inc = incident.Incident{Title: title(g, labels), Level: s.level(labels), State: incident.StateDeclared,
			System: labels[s.cfg.AppLabel], Unit: rt.Unit, Channel: rt.Channel, Rotation: rt.Rotation, Source: incident.SourceAlertmanager,
			DeclaredBy: core.SystemUser, CreatedAt: now, LastUpdateAt: now}
		if inc.System != "" {
			if _, err := tx.App(ctx, inc.System); err != nil {
				inc.System = "" // an app label opsbot does not know
			}
		}
		if _, err := ops.Open(ctx, &inc, sys, "Alertmanager "+g.Receiver); err != nil {
			return res, err
		}
		row = GroupRow{GroupKey: g.GroupKey, Receiver: g.Receiver, IncidentID: inc.ID, Labels: g.GroupLabels, App: labels[s.cfg.AppLabel]}
		res.Created, changed = true, true
	case !inc.Open() && anyFiring:
		// Firing again soon after it resolved: reopen it.
		before := inc
		inc.State, inc.ResolvedAt, inc.LastUpdateAt, inc.Escalation = incident.StateDeclared, nil, now, 0
		if err := ops.Note(ctx, inc.ID, sys.UserID, "reopen", ""); err != nil {
			return res, err
		}
		if err := ops.Restart(ctx, inc); err != nil {
			return res, err
		}
		res.Reopened, changed = true, true
		if err := ops.Record(ctx, sys, "incident.reopen", inc, before); err != nil {
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
	var counts AlertCounts
	if pre != nil {
		counts = pre.counts
	} else {
		cs, err := tx.SaveAlerts(ctx, []GroupAlerts{{GroupKey: g.GroupKey, Alerts: g.Alerts}}, now, s.cfg.HTTPKindLabel, s.cfg.HTTPKindValue)
		if err != nil {
			return res, err
		}
		counts = cs[0]
	}
	firing, resolved, httpSince := counts.Firing, counts.Resolved, counts.HTTPSince
	row.Status, row.Firing, row.Resolved, row.ExternalURL, row.UpdatedAt = g.Status, firing, resolved, g.ExternalURL, now
	row.Top = CardAlerts(g.Alerts)
	row.HTTPKind = row.HTTPKind || httpSince != nil
	wasJoint := row.Joint
	if g.Status == "resolved" && firing == 0 && inc.Open() {
		before := inc
		inc.State, inc.ResolvedAt, inc.Summary = incident.StateResolved, &now, ResolvedSummary
		if inc.AckedAt == nil {
			inc.AckedAt = &now
		}
		if err := ops.Stop(ctx, inc); err != nil {
			return res, err
		}
		if err := ops.Note(ctx, inc.ID, sys.UserID, "auto_resolve", ""); err != nil {
			return res, err
		}
		if err := ops.Record(ctx, sys, "incident.auto_resolve", inc, before); err != nil {
			return res, err
		}
		res.Resolved, changed = true, true
		if wasJoint && row.HTTPKind {
			if err := s.draft(ctx, tx, ops, inc, row, "recovery"); err != nil {
				return res, err
			}
		}
	}
	if changed {
		if err := ops.Save(ctx, inc); err != nil {
			return res, err
		}
	}
	// The non-200 rule: an HTTP-availability alert firing this long makes
	// it joint troubleshooting with the app's access party; so does a
	// slow-response alert (M 7.3.3 c).
	if due, ok := s.jointDue(httpSince, s.slowSince(g)); ok && !row.Joint && inc.Open() {
		if err := tx.KeepTimer(ctx, core.Timer{Kind: TimerNon200, Ref: inc.Ref(), DueAt: due}); err != nil {
			return res, err
		}
	}
	switch {
	case res.Created || res.Reopened:
		first := []string{}
		if inc.Owner != "" {
			first = append(first, inc.Owner)
		}
		if err := ops.Send(ctx, inc.CardRef(), first, ops.Channel(inc), incident.Card{CardData: ops.Card(ctx, inc, stateOf(row))}); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	case res.Resolved:
		if err := tx.Notify(ctx, core.Notice{Ref: inc.CardRef(), Body: incident.CardUpdate{CardData: ops.Card(ctx, inc, stateOf(row))}}); err != nil {
			return res, err
		}
		if err := ops.Broadcast(ctx, inc, sys, "auto_resolve", ""); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	case row.FlushDue != nil:
		// An update is already scheduled; it will show this state too.
	case row.NotifiedAt == nil || now.Sub(*row.NotifiedAt) >= s.cfg.UpdateEvery:
		if err := tx.Notify(ctx, core.Notice{Ref: inc.CardRef(), Body: incident.CardUpdate{CardData: ops.Card(ctx, inc, stateOf(row))}}); err != nil {
			return res, err
		}
		row.NotifiedAt = &now
	default:
		// Coalesce: one update when the interval is over.
		due := row.NotifiedAt.Add(s.cfg.UpdateEvery)
		if err := tx.Schedule(ctx, core.Timer{Kind: TimerFlush, Ref: inc.Ref(), DueAt: due}); err != nil {
			return res, err
		}
		row.FlushDue = &due
	}
	if after != nil {
		after.row, after.inc = row, inc
	}
	return res, tx.SaveAlertGroup(ctx, row)
}

// appName is an app's name, else its code.
func appName(ctx context.Context, tx Tx, code string) string {
	if a, err := tx.App(ctx, code); err == nil {
		return a.Name
	}
	return code
}

// draft posts a public-notice draft (outage or recovery) to the sys
// admins for approval (M 7.3.3 b).
func (s *Service) draft(ctx context.Context, tx Tx, ops incident.Ops, i incident.Incident, g GroupRow, kind string) error {
	admins, err := ops.Targets(ctx, incident.Incident{}, string(org.RoleSysAdmin))
	if err != nil {
		return err
	}
	p := NoticeDraft{PublicText{Brief: incident.BriefOf(i), Notice: kind, App: g.App, AppName: appName(ctx, tx, g.App), Since: i.CreatedAt}}
	return ops.Send(ctx, i.Ref()+"#notice:"+kind, admins, "", p)
}

// HandleTimer fires a coalesced card update or the non-200 rule, once.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	now := s.clock.Now()
	return core.Fire(ctx, s.store.InTx, id, now, func(tx Tx, t core.Timer) error {
		iid, err := t.RefID("incident:")
		if err != nil {
			return fmt.Errorf("alert: %w", err)
		}
		ops, i, err := s.incidentIn(ctx, tx, iid, true)
		if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, iid)
		if err != nil {
			return err
		}
		switch t.Kind {
		case TimerFlush:
			g.NotifiedAt, g.FlushDue = &now, nil
			if err := tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: incident.CardUpdate{CardData: ops.Card(ctx, i, stateOf(g))}}); err != nil {
				return err
			}
			return tx.SaveAlertGroup(ctx, g)
		case TimerNon200:
			return s.joint(ctx, tx, ops, i, g)
		}
		return nil
	}, s.lockTimer(ctx))
}

// lockTimer locks what an alert timer is about before the timer is
// claimed, in ingest's order (core.Fire): the incident's alert group,
// then the incident.
func (s *Service) lockTimer(ctx context.Context) func(tx Tx, t core.Timer) error {
	return func(tx Tx, t core.Timer) error {
		iid, err := t.RefID("incident:")
		if err != nil {
			return fmt.Errorf("alert: %w", err)
		}
		g, err := tx.AlertGroupOf(ctx, iid)
		if err == nil {
			var inc incident.Incident
			g, inc, err = lockGroup(ctx, tx, g.GroupKey)
			if err == nil && inc.ID == iid && g.IncidentID == iid {
				return nil
			}
		}
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		// No group, or it moved on to a newer incident meanwhile: the incident alone.
		_, _, err = s.incidentIn(ctx, tx, iid, true)
		return err
	}
}

// joint applies the non-200 rule: the app's access party and the
// operators are paged, and a public outage notice is drafted.
func (s *Service) joint(ctx context.Context, tx Tx, ops incident.Ops, i incident.Incident, g GroupRow) error {
	if !i.Open() || g.Joint || g.Firing == 0 {
		return nil
	}
	g.Joint = true
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
	ops2, err := ops.Targets(ctx, i, "operator")
	if err != nil {
		return err
	}
	to = append(to, ops2...)
	incident.AddStakeholders(&i, to...)
	if err := ops.Save(ctx, i); err != nil {
		return err
	}
	if err := tx.SaveAlertGroup(ctx, g); err != nil {
		return err
	}
	if err := ops.Note(ctx, i.ID, core.SystemUser, "joint", strings.Join(to, ",")); err != nil {
		return err
	}
	if err := ops.Send(ctx, i.CardRef(), to, "", incident.Card{CardData: ops.Card(ctx, i, stateOf(g))}); err != nil {
		return err
	}
	if err := tx.Notify(ctx, core.Notice{Ref: i.CardRef(), Body: incident.CardUpdate{CardData: ops.Card(ctx, i, stateOf(g))}}); err != nil {
		return err
	}
	// An unavailable app gets a public outage notice drafted; a slow one
	// only its access party paged.
	if g.HTTPKind {
		if err := s.draft(ctx, tx, ops, i, g, "outage"); err != nil {
			return err
		}
	}
	return ops.Record(ctx, core.SystemActor(), "incident.joint", i, nil)
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
		ops, i, err := s.incidentIn(ctx, tx, id, true)
		if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, id)
		if err != nil {
			return err
		}
		events, err := ops.Events(ctx, id)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Kind == "notice" && e.Body == kind {
				return core.AlreadyDecided("notice_published", "id", strconv.FormatInt(id, 10), "by", e.Actor, "at", e.At.In(s.cal.Location()).Format("2006-01-02 15:04"))
			}
		}
		text := PublicText{Brief: incident.BriefOf(i), Notice: kind, App: g.App, AppName: appName(ctx, tx, g.App), Since: i.CreatedAt}
		if err := ops.Note(ctx, id, actor.UserID, "notice", kind); err != nil {
			return err
		}
		if err := tx.Notify(ctx, core.Notice{Ref: i.Ref() + "#notice:" + kind, Body: NoticePublished{PublicText: text, By: actor.UserID, ByName: actor.Name}}); err != nil {
			return err
		}
		if ch := ops.Channel(i); ch != "" {
			if err := tx.Notify(ctx, core.Notice{Ref: i.Ref(), To: core.Recipient{Channel: ch}, Body: PublicNotice{text}}); err != nil {
				return err
			}
		}
		return ops.Record(ctx, actor, "incident.notice."+kind, i, nil)
	})
}

// incidentIn binds the incident operations to tx and loads incident id
// (row-locked with lock).
func (s *Service) incidentIn(ctx context.Context, tx Tx, id int64, lock bool) (incident.Ops, incident.Incident, error) {
	ops, err := s.incidents.In(tx)
	if err != nil {
		return ops, incident.Incident{}, err
	}
	i, err := ops.Get(ctx, id, lock)
	return ops, i, err
}

// SilenceTarget is what an Alertmanager silence needs: the group's matchers.
type SilenceTarget struct {
	Incident incident.Incident
	Labels   map[string]string
	Receiver string
}

// silencers are the people who may silence incident i: those with
// authority over it (its owner, its on-call, operators, sys admins and
// the admins covering its unit).
func silencers(ctx context.Context, ops incident.Ops, i incident.Incident) ([]string, error) {
	return ops.Authorities(ctx, i)
}

// SilenceTarget returns the matchers of an alert incident's group for
// actor, who must be one of its silencers: its on-call, an operator, or an
// admin covering its unit (not_silencer otherwise).
func (s *Service) SilenceTarget(ctx context.Context, actor core.Actor, id int64) (SilenceTarget, error) {
	var t SilenceTarget
	err := s.store.InTx(ctx, func(tx Tx) error {
		ops, i, err := s.incidentIn(ctx, tx, id, false)
		if err != nil {
			return err
		}
		g, err := tx.AlertGroupOf(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return core.Invalid("not_alert_incident", "id", strconv.FormatInt(id, 10))
		} else if err != nil {
			return err
		}
		who, err := silencers(ctx, ops, i)
		if err != nil {
			return err
		}
		if actor.UserID == core.SystemUser || !slices.Contains(who, actor.UserID) {
			return core.Forbidden("not_silencer", "id", strconv.FormatInt(id, 10), "user", actor.UserID)
		}
		t = SilenceTarget{Incident: i, Labels: g.Labels, Receiver: g.Receiver}
		return nil
	})
	return t, err
}

// Matcher is one label matcher of a silence.
type Matcher struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SilenceRecord is what the audit log keeps of a silence.
type SilenceRecord struct {
	SilenceID string    `json:"silence_id"`
	Matchers  []Matcher `json:"matchers"`
	Until     time.Time `json:"until"`
}

// Matchers are the equality matchers of labels, sorted by name.
func Matchers(labels map[string]string) []Matcher {
	out := make([]Matcher, 0, len(labels))
	for k, v := range labels {
		out = append(out, Matcher{Name: k, Value: v})
	}
	slices.SortFunc(out, func(a, b Matcher) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RecordSilence notes on the incident that actor silenced its group with
// silence silenceID until until, tells its stakeholders, and audits it
// ("alert.silence") with the matchers, in one transaction.
func (s *Service) RecordSilence(ctx context.Context, actor core.Actor, id int64, silenceID string, matchers []Matcher, until time.Time) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		ops, i, err := s.incidentIn(ctx, tx, id, true)
		if err != nil {
			return err
		}
		body := silenceID + " → " + until.In(s.cal.Location()).Format("2006-01-02 15:04")
		if err := ops.Note(ctx, id, actor.UserID, "silence", body); err != nil {
			return err
		}
		if err := ops.Broadcast(ctx, i, actor, "silence", body); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "alert.silence", i.Ref(), nil,
			SilenceRecord{SilenceID: silenceID, Matchers: matchers, Until: until})
	})
}
