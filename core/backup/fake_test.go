package backup_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/backup"
	"opsbot/core/calendar"
	"opsbot/core/org"
	"opsbot/core/routine/routinetest"
)

// state is the in-memory store behind every port.
type state struct {
	*routinetest.Core
	routinetest.Org
	plans   []backup.Plan
	reports []backup.Report
	checks  map[string]backup.Check // plan id + day
	faults  []backup.Fault
	verifs  []backup.Verification
	audits  map[string]backup.Audit
	apps    map[string]bool
	owners  map[string]string // app → owner unit
	faultTx map[int64]*tx     // fault id → transaction that filed it
}

// tx is one transaction on the state: a new one each time, so tests can
// tell transactions apart.
type tx struct{ *state }

func (s *state) begin() *tx { return &tx{state: s} }

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
	t.faultTx[f.ID] = t
	return nil
}
func (t *tx) OpenBackupFaults(_ context.Context, planID int64, _ bool) ([]backup.Fault, error) {
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
	return org.App{Code: code, Owner: t.owners[code]}, nil
}

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time { return routinetest.At(cst, s) }

// harness is a backup service on the fakes, at a time moved by hand.
type harness struct {
	t     *testing.T
	ctx   context.Context
	s     *state
	clock *routinetest.Clock
	inc   *routinetest.Opener
	svc   *backup.Service
}

var (
	operator = core.Actor{UserID: "op1", Platform: core.PlatformWebchat}
	script   = backup.ScriptActor()
	lead     = core.Actor{UserID: "lead1", Platform: core.PlatformWebchat}
)

// newHarness: operators op1 and op2 under unit admin ua1, lead1 the lead,
// db1 an app; a grace of one hour, restore tests due on the 25th.
func newHarness(t *testing.T, now string) *harness {
	t.Helper()
	s := &state{Core: &routinetest.Core{}, checks: map[string]backup.Check{}, audits: map[string]backup.Audit{}, apps: map[string]bool{"db1": true},
		Org: routinetest.Org{Holders: map[org.Role][]string{org.RoleOperator: {"op1", "op2"}, org.RoleSysAdmin: {"root"}},
			Admins: map[string][]string{"op1": {"ua1"}, "op2": {"ua1"}}}, faultTx: map[int64]*tx{}}
	c := &routinetest.Clock{T: at(now)}
	inc := &routinetest.Opener{}
	svc := backup.NewService(store{s}, c, calendar.New(cst, nil), inc, backup.Config{Grace: time.Hour, FailLevel: 3, VerifyDay: 25, Lead: "lead1"})
	return &harness{t: t, ctx: context.Background(), s: s, clock: c, inc: inc, svc: svc}
}

// until fires every timer due up to to, in order, as the worker would,
// and leaves the clock at to.
func (h *harness) until(to string) {
	h.t.Helper()
	require.NoError(h.t, h.s.Run(h.clock, at(to), func(id int64) error { return h.svc.HandleTimer(h.ctx, id) }))
}

// sent lists the notices queued so far as "type ref → recipient", and
// forgets them.
func (h *harness) sent() []string { return h.s.Sent() }

// bodies returns the payloads queued so far of type T.
func bodies[T core.Payload](h *harness) []T { return routinetest.Bodies[T](h.s.Core) }

// actions lists the audit actions recorded so far.
func (h *harness) actions() []string { return h.s.Actions() }

// pending lists the pending timers as "kind stage due".
func (h *harness) pending() []string {
	var out []string
	for _, tm := range h.s.Pending() {
		key := tm.Data["day"] + tm.Data["month"]
		out = append(out, strings.Join([]string{tm.Kind, key, tm.Data["stage"], tm.DueAt.In(cst).Format("2006-01-02 15:04")}, " "))
	}
	return routinetest.Sorted(out)
}

// report moves the clock to when and records a report by actor (from the
// API when actor's platform is, else chat), which must succeed.
func (h *harness) report(when string, actor core.Actor, ok bool, kind, note string) backup.ReportResult {
	h.t.Helper()
	h.until(when)
	source := "chat"
	if actor.Platform == core.PlatformAPI {
		source = "api"
	}
	res, err := h.svc.Report(h.ctx, actor, "db1", ok, kind, note, source)
	require.NoError(h.t, err)
	return res
}

// User returns an org user: op1, op2, lead1 and root exist, "gone" was removed.
func (t *tx) User(_ context.Context, id string) (org.User, error) {
	switch id {
	case "op1", "op2", "lead1", "root":
		return org.User{ID: id, Name: "name of " + id}, nil
	case "gone":
		return org.User{ID: id, Removed: true}, nil
	}
	return org.User{}, notFound("user " + id)
}
