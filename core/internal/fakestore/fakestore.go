// Package fakestore is an in-memory store for the unit tests of the
// incident, duty, problem and alert packages: maps inside, every InTx runs
// its function directly, and a clock the test moves by hand. One fake
// serves the four packages because their ports overlap (an alert
// transaction is also an incident one); it is imported by tests only.
package fakestore

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/calendar"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/problem"
)

// Clock is a clock moved by hand.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) { c.T = c.T.Add(d) }

// Timer is a scheduled timer and what became of it.
type Timer struct {
	core.Timer
	Cancelled, Fired bool
}

// Tx is the fake transaction: it implements every port of the four packages.
type Tx struct {
	Users       map[string]org.User
	Units       map[string]org.Unit
	Apps        map[string]org.App
	Grants      []org.Grant
	IncidentMap map[int64]*incident.Incident
	EventMap    map[int64][]incident.Event
	ActionList  []incident.Action
	Links       map[int64]int64 // incident → problem
	ProblemList []problem.Problem
	RotationMap map[string]duty.Rotation
	OverrideMap map[string]map[string]string
	HandoverMap map[int64]*duty.Handover
	Groups      map[string]alert.GroupRow
	AlertMap    map[string]map[string]alert.Alert // group → fingerprint → alert
	Pending     int
	Requests    map[int64]string // approval request id → kind
	Paging                       // contacts, pages and acknowledge links (paging.go)

	Notices []core.Notice
	Audits  []core.AuditEntry
	Timers  []*Timer
}

// New returns an empty store with a root unit "city".
func New() *Tx {
	return &Tx{Users: map[string]org.User{}, Units: map[string]org.Unit{"city": {Code: "city", Path: "/city/"}},
		Apps: map[string]org.App{}, IncidentMap: map[int64]*incident.Incident{}, EventMap: map[int64][]incident.Event{},
		Links: map[int64]int64{}, RotationMap: map[string]duty.Rotation{}, OverrideMap: map[string]map[string]string{},
		HandoverMap: map[int64]*duty.Handover{}, Groups: map[string]alert.GroupRow{}, AlertMap: map[string]map[string]alert.Alert{}, Requests: map[int64]string{}}
}

// AddUser adds active users in unit.
func (t *Tx) AddUser(unit string, ids ...string) {
	for _, id := range ids {
		t.Users[id] = org.User{ID: id, Name: id, Unit: unit}
	}
}

// Grant gives user role over scope.
func (t *Tx) Grant(user string, role org.Role, scope string) {
	t.Grants = append(t.Grants, org.Grant{UserID: user, Role: role, Scope: scope})
}

// Sent lists the notices of type typ as "to|ref".
func (t *Tx) Sent(typ string) []string {
	var out []string
	for _, n := range t.Notices {
		if n.Type() == typ {
			out = append(out, n.To.String()+"|"+n.Ref)
		}
	}
	return out
}

// Payloads returns the payloads of the notices of type typ.
func (t *Tx) Payloads(typ string) []core.Payload {
	var out []core.Payload
	for _, n := range t.Notices {
		if n.Type() == typ {
			out = append(out, n.Body)
		}
	}
	return out
}

// Due returns the pending timers due by now, earliest first.
func (t *Tx) Due(now time.Time) []core.Timer {
	var out []core.Timer
	for _, tm := range t.Timers {
		if !tm.Cancelled && !tm.Fired && !tm.DueAt.After(now) {
			out = append(out, tm.Timer)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].DueAt.Before(out[b].DueAt) })
	return out
}

// PendingTimers lists the pending timers of kind about ref ("" any).
func (t *Tx) PendingTimers(ref, kind string) []core.Timer {
	var out []core.Timer
	for _, tm := range t.Timers {
		if !tm.Cancelled && !tm.Fired && (ref == "" || tm.Ref == ref) && (kind == "" || tm.Kind == kind) {
			out = append(out, tm.Timer)
		}
	}
	return out
}

// Reset forgets the notices, audits and timers recorded so far (not the timers' state).
func (t *Tx) Reset() { t.Notices, t.Audits = nil, nil }

// ---- core.Tx

// Audit records an entry.
func (t *Tx) Audit(_ context.Context, e core.AuditEntry) error {
	t.Audits = append(t.Audits, e)
	return nil
}

// Notify records a notice.
func (t *Tx) Notify(_ context.Context, n core.Notice) error {
	t.Notices = append(t.Notices, n)
	return nil
}

// Schedule records a timer.
func (t *Tx) Schedule(_ context.Context, tm core.Timer) error {
	tm.ID = int64(len(t.Timers) + 1)
	t.Timers = append(t.Timers, &Timer{Timer: tm})
	return nil
}

// CancelTimers cancels pending timers.
func (t *Tx) CancelTimers(_ context.Context, ref, kind string) error {
	for _, tm := range t.Timers {
		if tm.Ref == ref && (kind == "" || tm.Kind == kind) && !tm.Fired {
			tm.Cancelled = true
		}
	}
	return nil
}

// KeepTimer keeps tm the one pending timer of its kind and ref.
func (t *Tx) KeepTimer(ctx context.Context, tm core.Timer) error {
	kept := false
	for _, p := range t.Timers {
		if p.Ref != tm.Ref || p.Kind != tm.Kind || p.Cancelled || p.Fired {
			continue
		}
		if p.DueAt.Equal(tm.DueAt) {
			kept = true
			continue
		}
		p.Cancelled = true
	}
	if kept {
		return nil
	}
	return t.Schedule(ctx, tm)
}

// PendingTimer returns a pending due timer, leaving it pending.
func (t *Tx) PendingTimer(_ context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	if id < 1 || int(id) > len(t.Timers) {
		return core.Timer{}, false, nil
	}
	tm := t.Timers[id-1]
	return tm.Timer, !tm.Cancelled && !tm.Fired && !tm.DueAt.After(now), nil
}

// ClaimTimer fires a pending due timer once.
func (t *Tx) ClaimTimer(ctx context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	tm, ok, err := t.PendingTimer(ctx, id, now)
	if ok {
		t.Timers[id-1].Fired = true
	}
	return tm, ok, err
}

// ---- org look-ups

// User returns a user.
func (t *Tx) User(_ context.Context, id string) (org.User, error) {
	u, ok := t.Users[id]
	if !ok {
		return u, core.ErrNotFound
	}
	return u, nil
}

// Unit returns a unit.
func (t *Tx) Unit(_ context.Context, code string) (org.Unit, error) {
	u, ok := t.Units[code]
	if !ok {
		return u, core.ErrNotFound
	}
	return u, nil
}

// Root returns the root unit.
func (t *Tx) Root(context.Context) (org.Unit, error) { return t.Units["city"], nil }

// App returns an app.
func (t *Tx) App(_ context.Context, code string) (org.App, error) {
	a, ok := t.Apps[code]
	if !ok {
		return a, core.ErrNotFound
	}
	return a, nil
}

// Holders returns the grants of a role.
func (t *Tx) Holders(_ context.Context, role org.Role) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range t.Grants {
		if g.Role == role {
			out = append(out, g)
		}
	}
	return out, nil
}

// GrantsOf returns a user's grants.
func (t *Tx) GrantsOf(_ context.Context, user string) ([]org.Grant, error) {
	var out []org.Grant
	for _, g := range t.Grants {
		if g.UserID == user {
			out = append(out, g)
		}
	}
	return out, nil
}

// ---- incidents

// InsertIncident stores a new incident.
func (t *Tx) InsertIncident(_ context.Context, i *incident.Incident) error {
	i.ID = int64(len(t.IncidentMap) + 1)
	c := *i
	t.IncidentMap[i.ID] = &c
	return nil
}

// Incident returns an incident.
func (t *Tx) Incident(_ context.Context, id int64, _ bool) (incident.Incident, error) {
	i, ok := t.IncidentMap[id]
	if !ok {
		return incident.Incident{}, core.ErrNotFound
	}
	c := *i
	c.Stakeholders = slices.Clone(i.Stakeholders)
	return c, nil
}

// UpdateIncident saves an incident.
func (t *Tx) UpdateIncident(_ context.Context, i incident.Incident) error {
	i.Stakeholders = slices.Clone(i.Stakeholders)
	t.IncidentMap[i.ID] = &i
	return nil
}

// Incidents lists incidents, newest first.
func (t *Tx) Incidents(_ context.Context, open bool, limit int) ([]incident.Line, error) {
	var out []incident.Line
	for id := int64(len(t.IncidentMap)); id >= 1 && len(out) < limit; id-- {
		if i := t.IncidentMap[id]; i != nil && (!open || i.Open()) {
			out = append(out, incident.Line{ID: i.ID, Title: i.Title, Level: i.Level, State: i.State, Owner: i.Owner, CreatedAt: i.CreatedAt})
		}
	}
	return out, nil
}

// FindIncidents lists the incidents f selects, newest first.
func (t *Tx) FindIncidents(_ context.Context, f incident.Filter) ([]incident.Incident, error) {
	var out []incident.Incident
	for id := int64(len(t.IncidentMap)); id >= 1 && len(out) < f.Limit; id-- {
		if i := t.IncidentMap[id]; i != nil && (f.Before == 0 || id < f.Before) && f.Match(*i) {
			out = append(out, *i)
		}
	}
	return out, nil
}

// IncidentsBetween lists the incidents declared in [from, to).
func (t *Tx) IncidentsBetween(_ context.Context, from, to time.Time) ([]incident.Incident, error) {
	var out []incident.Incident
	for id := int64(1); id <= int64(len(t.IncidentMap)); id++ {
		if i := t.IncidentMap[id]; i != nil && !i.CreatedAt.Before(from) && i.CreatedAt.Before(to) {
			out = append(out, *i)
		}
	}
	return out, nil
}

// InsertEvent adds a timeline event.
func (t *Tx) InsertEvent(_ context.Context, id int64, e incident.Event) error {
	t.EventMap[id] = append(t.EventMap[id], e)
	return nil
}

// Events returns a timeline.
func (t *Tx) Events(_ context.Context, id int64) ([]incident.Event, error) {
	return t.EventMap[id], nil
}

// EventKinds lists an incident's event kinds in order.
func (t *Tx) EventKinds(id int64) []string {
	var out []string
	for _, e := range t.EventMap[id] {
		out = append(out, e.Kind)
	}
	return out
}

// InsertAction adds a review action.
func (t *Tx) InsertAction(_ context.Context, a *incident.Action) error {
	a.ID = int64(len(t.ActionList) + 1)
	t.ActionList = append(t.ActionList, *a)
	return nil
}

// Actions lists an incident's actions.
func (t *Tx) Actions(_ context.Context, id int64) ([]incident.Action, error) {
	var out []incident.Action
	for _, a := range t.ActionList {
		if a.IncidentID == id {
			out = append(out, a)
		}
	}
	return out, nil
}

// ActionDone marks an open action done.
func (t *Tx) ActionDone(_ context.Context, id int64, _ string, _ time.Time) (bool, error) {
	for k := range t.ActionList {
		if t.ActionList[k].ID == id && !t.ActionList[k].Done {
			t.ActionList[k].Done = true
			return true, nil
		}
	}
	return false, nil
}

// OpenActions lists the actions not done, with their incidents' unit and people.
func (t *Tx) OpenActions(context.Context) ([]incident.OpenAction, error) {
	var out []incident.OpenAction
	for _, a := range t.ActionList {
		if a.Done {
			continue
		}
		o := incident.OpenAction{Action: a}
		if i := t.IncidentMap[a.IncidentID]; i != nil {
			o.Unit, o.DeclaredBy, o.IncidentOwner = i.Unit, i.DeclaredBy, i.Owner
		}
		out = append(out, o)
	}
	return out, nil
}

// UpdateProblem saves a problem still in state from.
func (t *Tx) UpdateProblem(_ context.Context, p problem.Problem, from string) (bool, error) {
	if p.ID < 1 || int(p.ID) > len(t.ProblemList) || t.ProblemList[p.ID-1].State != from {
		return false, nil
	}
	t.ProblemList[p.ID-1] = p
	return true, nil
}

// RequestKind returns the kind of a request in Requests.
func (t *Tx) RequestKind(_ context.Context, id int64) (string, error) {
	k, ok := t.Requests[id]
	if !ok {
		return "", core.ErrNotFound
	}
	return k, nil
}

// PendingRequests counts pending requests.
func (t *Tx) PendingRequests(context.Context) (int, error) { return t.Pending, nil }

// ---- problems

// ProblemOf returns an incident's problem (0 none).
func (t *Tx) ProblemOf(_ context.Context, id int64) (int64, error) { return t.Links[id], nil }

// ProblemLinks returns the problem of each incident that has one.
func (t *Tx) ProblemLinks(_ context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for _, id := range ids {
		if p := t.Links[id]; p != 0 {
			out[id] = p
		}
	}
	return out, nil
}

// InsertProblem stores a problem.
func (t *Tx) InsertProblem(_ context.Context, p *problem.Problem) error {
	p.ID = int64(len(t.ProblemList) + 1)
	t.ProblemList = append(t.ProblemList, *p)
	return nil
}

// Problem returns a problem.
func (t *Tx) Problem(_ context.Context, id int64) (problem.Problem, error) {
	if id < 1 || int(id) > len(t.ProblemList) {
		return problem.Problem{}, core.ErrNotFound
	}
	return t.ProblemList[id-1], nil
}

// Problems lists problems.
func (t *Tx) Problems(context.Context) ([]problem.Problem, error) { return t.ProblemList, nil }

// LinkProblem links an incident to a problem.
func (t *Tx) LinkProblem(_ context.Context, iid, pid int64) error { t.Links[iid] = pid; return nil }

// ProblemIncidents lists a problem's incidents.
func (t *Tx) ProblemIncidents(_ context.Context, pid int64) ([]incident.Incident, error) {
	var out []incident.Incident
	for id := int64(1); id <= int64(len(t.IncidentMap)); id++ {
		if t.Links[id] == pid {
			out = append(out, *t.IncidentMap[id])
		}
	}
	return out, nil
}

// ---- duty

// Rotation returns a rotation.
func (t *Tx) Rotation(_ context.Context, name string) (duty.Rotation, error) {
	r, ok := t.RotationMap[name]
	if !ok {
		return r, core.ErrNotFound
	}
	return r, nil
}

// Rotations lists rotations by name.
func (t *Tx) Rotations(context.Context) ([]duty.Rotation, error) {
	var out []duty.Rotation
	for _, r := range t.RotationMap {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// UpsertRotation stores a rotation.
func (t *Tx) UpsertRotation(_ context.Context, r duty.Rotation) error {
	t.RotationMap[r.Name] = r
	return nil
}

// Overrides returns a rotation's overrides.
func (t *Tx) Overrides(_ context.Context, rotation string) (map[string]string, error) {
	return t.OverrideMap[rotation], nil
}

// SetOverride puts user on a day's shift.
func (t *Tx) SetOverride(_ context.Context, rotation, day, user, _ string, _ time.Time) error {
	if t.OverrideMap[rotation] == nil {
		t.OverrideMap[rotation] = map[string]string{}
	}
	t.OverrideMap[rotation][day] = user
	return nil
}

// InsertHandover stores a handover unless its shift has one.
func (t *Tx) InsertHandover(_ context.Context, h *duty.Handover) (bool, error) {
	for _, o := range t.HandoverMap {
		if o.Rotation == h.Rotation && o.ShiftStart.Equal(h.ShiftStart) {
			return false, nil
		}
	}
	h.ID = int64(len(t.HandoverMap) + 1)
	c := *h
	t.HandoverMap[h.ID] = &c
	return true, nil
}

// Handover returns a handover.
func (t *Tx) Handover(_ context.Context, id int64, _ bool) (duty.Handover, error) {
	h, ok := t.HandoverMap[id]
	if !ok {
		return duty.Handover{}, core.ErrNotFound
	}
	return *h, nil
}

// UpdateHandover saves a handover.
func (t *Tx) UpdateHandover(_ context.Context, h duty.Handover) error {
	t.HandoverMap[h.ID] = &h
	return nil
}

// Handovers lists handovers, newest first.
func (t *Tx) Handovers(_ context.Context, rotation string, pendingOnly bool, limit int) ([]duty.Handover, error) {
	var out []duty.Handover
	for id := int64(len(t.HandoverMap)); id >= 1 && len(out) < limit; id-- {
		h := t.HandoverMap[id]
		if (rotation == "" || h.Rotation == rotation) && (!pendingOnly || h.State == "pending") {
			out = append(out, *h)
		}
	}
	return out, nil
}

// ---- alerts

// LockKey does nothing: the fake runs one transaction at a time.
func (t *Tx) LockKey(context.Context, string) error { return nil }

// LockAlertGroups returns the stored groups of keys and their incidents.
func (t *Tx) LockAlertGroups(ctx context.Context, keys []string) (map[string]alert.GroupRow, map[int64]incident.Incident, error) {
	gs, incs := map[string]alert.GroupRow{}, map[int64]incident.Incident{}
	for _, key := range keys {
		g, ok := t.Groups[key]
		if !ok {
			continue
		}
		i, err := t.Incident(ctx, g.IncidentID, true)
		if err != nil {
			return nil, nil, err
		}
		gs[key], incs[i.ID] = g, i
	}
	return gs, incs, nil
}

// AlertGroupOf returns an incident's group.
func (t *Tx) AlertGroupOf(_ context.Context, id int64) (alert.GroupRow, error) {
	for _, g := range t.Groups {
		if g.IncidentID == id {
			var alerts []alert.Alert
			for _, a := range t.AlertMap[g.GroupKey] {
				alerts = append(alerts, a)
			}
			g.Top = alert.CardAlerts(alerts)
			return g, nil
		}
	}
	return alert.GroupRow{}, core.ErrNotFound
}

// SaveAlertGroup stores a group.
func (t *Tx) SaveAlertGroup(_ context.Context, g alert.GroupRow) error {
	t.Groups[g.GroupKey] = g
	return nil
}

// SaveAlerts upserts alerts and counts each group's.
func (t *Tx) SaveAlerts(_ context.Context, groups []alert.GroupAlerts, _ time.Time, kindLabel, kindValue string) ([]alert.AlertCounts, error) {
	out := make([]alert.AlertCounts, len(groups))
	for n, g := range groups {
		if t.AlertMap[g.GroupKey] == nil {
			t.AlertMap[g.GroupKey] = map[string]alert.Alert{}
		}
		for _, a := range g.Alerts {
			t.AlertMap[g.GroupKey][a.Fingerprint] = a
		}
		c := &out[n]
		for _, a := range t.AlertMap[g.GroupKey] {
			if a.Status != "firing" {
				c.Resolved++
				continue
			}
			c.Firing++
			if kindLabel != "" && strings.EqualFold(a.Labels[kindLabel], kindValue) && (c.HTTPSince == nil || a.StartsAt.Before(*c.HTTPSince)) {
				s := a.StartsAt
				c.HTTPSince = &s
			}
		}
	}
	return out, nil
}

// ---- stores

// Store runs every domain's transactions on the one fake.
type Store struct{ Tx *Tx }

// Incidents is the incident store.
func (s Store) Incidents() incident.Store { return incidentStore(s) }

// Duty is the rotation store.
func (s Store) Duty() duty.Store { return dutyStore(s) }

// Handovers is the handover store.
func (s Store) Handovers() duty.HandoverStore { return handoverStore(s) }

// Problems is the problem store.
func (s Store) Problems() problem.Store { return problemStore(s) }

// Alerts is the alert store.
func (s Store) Alerts() alert.Store { return alertStore(s) }

type incidentStore Store

func (s incidentStore) InTx(_ context.Context, fn func(incident.WriteTx) error) error {
	return fn(s.Tx)
}
func (s incidentStore) Read(_ context.Context, fn func(incident.ReadTx) error) error { return fn(s.Tx) }

type dutyStore Store

func (s dutyStore) InTx(_ context.Context, fn func(duty.Tx) error) error { return fn(s.Tx) }

type handoverStore Store

func (s handoverStore) InTx(_ context.Context, fn func(duty.HandoverTx) error) error { return fn(s.Tx) }

type problemStore Store

func (s problemStore) InTx(_ context.Context, fn func(problem.Tx) error) error { return fn(s.Tx) }

type alertStore Store

func (s alertStore) InTx(_ context.Context, fn func(alert.Tx) error) error { return fn(s.Tx) }

// World is every service of the four packages over one fake store, as
// main.go wires them.
type World struct {
	Tx        *Tx
	Clock     *Clock
	Cal       *calendar.Calendar
	Rotations *duty.Service
	Handovers *duty.Handovers
	Incidents *incident.Service
	Problems  *problem.Service
	Alerts    *alert.Service
}

// NewWorld wires the services at now, in a calendar without holidays in zone loc.
func NewWorld(now time.Time, loc *time.Location, policy incident.Policy, alerts alert.Config) *World {
	w := &World{Tx: New(), Clock: &Clock{T: now}, Cal: calendar.New(loc, nil)}
	st := Store{Tx: w.Tx}
	w.Rotations = duty.NewService(st.Duty(), w.Clock, w.Cal)
	w.Incidents = incident.NewService(st.Incidents(), w.Clock, w.Cal, incident.Config{Channel: "ops-room", Rotation: "ops", Policy: policy},
		incident.Deps{Roster: w.Rotations, Coverer: w.Rotations, Problems: problem.NewProposer(w.Clock, "ops-room"),
			Major: problem.NewProposer(w.Clock, "ops-room").WithMajor(w.Cal, problem.DefaultDueDays)})
	w.Handovers = duty.NewHandovers(st.Handovers(), w.Clock, w.Cal, w.Incidents)
	w.Problems = problem.NewService(st.Problems(), w.Clock, w.Cal, w.Incidents)
	w.Alerts = alert.NewService(st.Alerts(), w.Clock, w.Cal, alerts, w.Incidents)
	return w
}

// Fire runs every timer due by now, as the worker would, and returns their kinds.
func (w *World) Fire(ctx context.Context) ([]string, error) {
	handlers := map[string]func(context.Context, int64) error{
		incident.TimerEscalation: w.Incidents.HandleTimer, incident.TimerProgress: w.Incidents.HandleTimer,
		incident.TimerActionDue: w.Incidents.HandleActionDue, duty.TimerHandoverCheck: w.Handovers.HandleTimer,
		incident.TimerActionOverdue: w.Incidents.HandleActionOverdue,
		problem.TimerDue:            w.Problems.HandleTimer, problem.TimerOverdue: w.Problems.HandleTimer,
		alert.TimerFlush: w.Alerts.HandleTimer, alert.TimerNon200: w.Alerts.HandleTimer,
	}
	var kinds []string
	for _, t := range w.Tx.Due(w.Clock.Now()) {
		if err := handlers[t.Kind](ctx, t.ID); err != nil {
			return kinds, err
		}
		kinds = append(kinds, t.Kind)
	}
	return kinds, nil
}

// CST is the zone the tests run in (UTC+8).
var CST = time.FixedZone("CST", 8*3600)

// Code is the code of a core error, "" for nil or any other error.
func Code(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
