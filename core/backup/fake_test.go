package backup_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/backup"
	"opsbot/core/calendar"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// clock is a clock moved by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// timer is a scheduled timer and what became of it.
type timer struct {
	core.Timer
	fired, cancelled bool
}

// state is the in-memory store behind every port.
type state struct {
	plans    []backup.Plan
	reports  []backup.Report
	checks   map[string]backup.Check // plan id + day
	faults   []backup.Fault
	verifs   []backup.Verification
	audits   map[string]backup.Audit
	apps     map[string]bool
	holders  map[org.Role][]string
	admins   map[string][]string
	timers   []*timer
	notices  []core.Notice
	trail    []core.AuditEntry
	txs      int           // transactions begun
	faultTx  map[int64]int // fault id → transaction that filed it
	lastTxFn string
}

// tx is one transaction on the state; seq tells transactions apart.
type tx struct {
	*state
	seq int
}

func (s *state) begin() *tx { s.txs++; return &tx{state: s, seq: s.txs} }

// store hands every port the same kind of fake transaction.
type store struct{ s *state }

func (st store) InTx(_ context.Context, fn func(backup.Tx) error) error { return fn(st.s.begin()) }
func (st store) InPlanTx(_ context.Context, fn func(backup.PlanTx) error) error {
	return fn(st.s.begin())
}
func (st store) InReportTx(_ context.Context, fn func(backup.ReportTx) error) error {
	return fn(st.s.begin())
}
func (st store) InCheckTx(_ context.Context, fn func(backup.CheckTx) error) error {
	return fn(st.s.begin())
}
func (st store) Read(_ context.Context, fn func(backup.Reader) error) error { return fn(st.s.begin()) }

var (
	_ backup.Tx       = (*tx)(nil)
	_ backup.PlanTx   = (*tx)(nil)
	_ backup.ReportTx = (*tx)(nil)
	_ backup.CheckTx  = (*tx)(nil)
	_ backup.Reader   = (*tx)(nil)
)

func notFound(what string) error { return fmt.Errorf("%s: %w", what, core.ErrNotFound) }

// core.Tx

func (t *tx) Audit(_ context.Context, e core.AuditEntry) error {
	t.trail = append(t.trail, e)
	return nil
}
func (t *tx) Notify(_ context.Context, n core.Notice) error {
	t.notices = append(t.notices, n)
	return nil
}
func (t *tx) Schedule(_ context.Context, tm core.Timer) error {
	tm.ID = int64(len(t.timers) + 1)
	t.timers = append(t.timers, &timer{Timer: tm})
	return nil
}
func (t *tx) CancelTimers(_ context.Context, ref, kind string) error {
	for _, tm := range t.timers {
		if tm.Ref == ref && (kind == "" || tm.Kind == kind) && !tm.fired {
			tm.cancelled = true
		}
	}
	return nil
}
func (t *tx) ClaimTimer(_ context.Context, id int64, now time.Time) (core.Timer, bool, error) {
	for _, tm := range t.timers {
		if tm.ID == id {
			if tm.fired || tm.cancelled || tm.DueAt.After(now) {
				return core.Timer{}, false, nil
			}
			tm.fired = true
			return tm.Timer, true, nil
		}
	}
	return core.Timer{}, false, nil
}

// plans

func (t *tx) InsertBackupPlan(_ context.Context, p *backup.Plan) error {
	p.ID = int64(len(t.plans) + 1)
	t.plans = append(t.plans, *p)
	return nil
}
func (t *tx) BackupPlan(_ context.Context, system string) (backup.Plan, error) {
	var found *backup.Plan
	for i := range t.plans {
		p := &t.plans[i]
		if p.System == system && (found == nil || p.Active || !found.Active) {
			found = p
		}
	}
	if found == nil {
		return backup.Plan{}, notFound("backup plan")
	}
	return *found, nil
}
func (t *tx) BackupPlanByID(_ context.Context, id int64, _ bool) (backup.Plan, error) {
	if id < 1 || int(id) > len(t.plans) {
		return backup.Plan{}, notFound("backup plan")
	}
	return t.plans[id-1], nil
}
func (t *tx) UpdateBackupPlan(_ context.Context, p backup.Plan) error {
	t.plans[p.ID-1] = p
	return nil
}
func (t *tx) BackupPlans(_ context.Context, all bool) ([]backup.Plan, error) {
	var out []backup.Plan
	for _, p := range t.plans {
		if p.Active || all {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].System < out[j].System })
	return out, nil
}

// reports and checks

func (t *tx) InsertBackupReport(_ context.Context, r *backup.Report) error {
	r.ID = int64(len(t.reports) + 1)
	t.reports = append(t.reports, *r)
	return nil
}
func (t *tx) BackupReports(_ context.Context, planID int64, limit int) ([]backup.Report, error) {
	var out []backup.Report
	for i := len(t.reports) - 1; i >= 0 && len(out) < limit; i-- {
		if t.reports[i].PlanID == planID {
			out = append(out, t.reports[i])
		}
	}
	return out, nil
}
func checkKey(planID int64, day string) string { return fmt.Sprint(planID, "/", day) }
func (t *tx) BackupCheck(_ context.Context, planID int64, day string) (backup.Check, error) {
	c, ok := t.checks[checkKey(planID, day)]
	if !ok {
		return backup.Check{}, notFound("backup check")
	}
	return c, nil
}
func (t *tx) UpsertBackupCheck(_ context.Context, c backup.Check) error {
	t.checks[checkKey(c.PlanID, c.Day)] = c
	return nil
}
func (t *tx) BackupChecks(_ context.Context, planID int64, from, to string) ([]backup.Check, error) {
	var out []backup.Check
	for _, c := range t.checks {
		if (planID == 0 || c.PlanID == planID) && c.Day >= from && c.Day <= to {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day > out[j].Day })
	return out, nil
}

// faults

func (t *tx) InsertBackupFault(_ context.Context, f *backup.Fault) error {
	f.ID = int64(len(t.faults) + 1)
	t.faults = append(t.faults, *f)
	t.faultTx[f.ID] = t.seq
	return nil
}
func (t *tx) OpenBackupFaults(_ context.Context, planID int64) ([]backup.Fault, error) {
	var out []backup.Fault
	for _, f := range t.faults {
		if f.PlanID == planID && f.State == "open" {
			out = append(out, f)
		}
	}
	return out, nil
}
func (t *tx) UpdateBackupFault(_ context.Context, f backup.Fault) error {
	t.faults[f.ID-1] = f
	return nil
}

// restore tests and audits

func (t *tx) InsertVerification(_ context.Context, v *backup.Verification) error {
	v.ID = int64(len(t.verifs) + 1)
	t.verifs = append(t.verifs, *v)
	return nil
}
func (t *tx) Verifications(_ context.Context, planID int64, month string) ([]backup.Verification, error) {
	var out []backup.Verification
	for _, v := range t.verifs {
		if v.PlanID == planID && v.Month == month {
			out = append(out, v)
		}
	}
	return out, nil
}
func (t *tx) InsertBackupAudit(_ context.Context, a backup.Audit) (bool, error) {
	if _, ok := t.audits[a.Month]; ok {
		return false, nil
	}
	t.audits[a.Month] = a
	return true, nil
}
func (t *tx) BackupAudit(_ context.Context, month string, _ bool) (backup.Audit, error) {
	a, ok := t.audits[month]
	if !ok {
		return backup.Audit{}, notFound("backup audit")
	}
	return a, nil
}
func (t *tx) UpdateBackupAudit(_ context.Context, a backup.Audit) error {
	t.audits[a.Month] = a
	return nil
}

// org

func (t *tx) App(_ context.Context, code string) (org.App, error) {
	if !t.apps[code] {
		return org.App{}, notFound("app")
	}
	return org.App{Code: code}, nil
}
func (t *tx) HoldersOf(_ context.Context, r org.Role) ([]string, error) { return t.holders[r], nil }
func (t *tx) AdminsOf(_ context.Context, u string) ([]string, error) {
	as, ok := t.admins[u]
	if !ok {
		return nil, notFound("user")
	}
	return as, nil
}

// opener opens incidents and records in which transaction.
type opener struct {
	opened []opened
}

type opened struct {
	incident.Incident
	tx    int
	actor string
}

func (o *opener) DeclareIn(_ context.Context, t core.Tx, actor core.Actor, title string, level int, system, _ string) (incident.Incident, error) {
	inc := incident.Incident{ID: int64(100 + len(o.opened)), Title: title, Level: level, System: system}
	o.opened = append(o.opened, opened{Incident: inc, tx: t.(*tx).seq, actor: actor.UserID})
	return inc, nil
}

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

// harness is a backup service on the fakes, at a time moved by hand.
type harness struct {
	t     *testing.T
	ctx   context.Context
	s     *state
	clock *clock
	inc   *opener
	svc   *backup.Service
}

var (
	operator = core.Actor{UserID: "op1", Platform: core.PlatformWebchat}
	script   = core.Actor{UserID: "backup-bot", Platform: core.PlatformAPI}
	lead     = core.Actor{UserID: "lead1", Platform: core.PlatformWebchat}
)

// newHarness: operators op1 and op2 under unit admin ua1, lead1 the lead,
// db1 an app; a grace of one hour, restore tests due on the 25th.
func newHarness(t *testing.T, now string) *harness {
	t.Helper()
	s := &state{checks: map[string]backup.Check{}, audits: map[string]backup.Audit{}, apps: map[string]bool{"db1": true},
		holders: map[org.Role][]string{org.RoleOperator: {"op1", "op2"}, org.RoleSysAdmin: {"root"}},
		admins:  map[string][]string{"op1": {"ua1"}, "op2": {"ua1"}}, faultTx: map[int64]int{}}
	c := &clock{now: at(now)}
	inc := &opener{}
	svc := backup.NewService(store{s}, c, calendar.New(cst, nil), inc, backup.Config{Grace: time.Hour, FailLevel: 3, VerifyDay: 25, Lead: "lead1"})
	return &harness{t: t, ctx: context.Background(), s: s, clock: c, inc: inc, svc: svc}
}

// until fires every timer due up to to, in order, as the worker would,
// and leaves the clock at to.
func (h *harness) until(to string) {
	h.t.Helper()
	end := at(to)
	for {
		var next *timer
		for _, tm := range h.s.timers {
			if !tm.fired && !tm.cancelled && !tm.DueAt.After(end) && (next == nil || tm.DueAt.Before(next.DueAt)) {
				next = tm
			}
		}
		if next == nil {
			break
		}
		if next.DueAt.After(h.clock.now) {
			h.clock.now = next.DueAt
		}
		require.NoError(h.t, h.svc.HandleTimer(h.ctx, next.ID))
	}
	h.clock.now = end
}

// sent lists the notices queued so far as "type ref → recipient", and
// forgets them.
func (h *harness) sent() []string {
	var out []string
	for _, n := range h.s.notices {
		to := n.To.User
		if to == "" {
			to = "(update)"
		}
		out = append(out, n.Type()+" "+n.Ref+" → "+to)
	}
	h.s.notices = nil
	return out
}

// bodies returns the payloads queued so far of type T.
func bodies[T core.Payload](h *harness) []T {
	var out []T
	for _, n := range h.s.notices {
		if p, ok := n.Body.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// actions lists the audit actions recorded so far.
func (h *harness) actions() []string {
	var out []string
	for _, e := range h.s.trail {
		out = append(out, e.Action)
	}
	return out
}

// pending lists the pending timers as "kind stage due".
func (h *harness) pending() []string {
	var out []string
	for _, tm := range h.s.timers {
		if !tm.fired && !tm.cancelled {
			key := tm.Data["day"] + tm.Data["month"]
			out = append(out, strings.Join([]string{tm.Kind, key, tm.Data["stage"], tm.DueAt.In(cst).Format("2006-01-02 15:04")}, " "))
		}
	}
	slices.Sort(out)
	return out
}
