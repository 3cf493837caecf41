package approval

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// App statuses.
const (
	AppRegistered = "registered"
	AppOnline     = "online"
	AppOffline    = "offline"
)

func getApp(ctx context.Context, tx Register, code string) (org.App, error) {
	a, err := tx.App(ctx, code)
	if errors.Is(err, core.ErrNotFound) {
		return org.App{}, core.NotFound("app_not_found", "code", code)
	}
	return a, err
}

func getUnit(ctx context.Context, tx Directory, code string) (org.Unit, error) {
	u, err := tx.Unit(ctx, code)
	if errors.Is(err, core.ErrNotFound) || (err == nil && u.Removed) {
		return org.Unit{}, core.NotFound("unit_not_found", "code", code)
	}
	return u, err
}

// holdsOver reports whether user holds one of roles over unit u (or, for
// access_party, over app).
func holdsOver(ctx context.Context, tx Directory, user string, u org.Unit, app string, roles ...org.Role) (bool, error) {
	grants, err := tx.GrantsOf(ctx, user)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		if !slices.Contains(roles, g.Role) {
			continue
		}
		if g.Role == org.RoleAccessParty {
			if g.Scope == app && app != "" {
				return true, nil
			}
			continue
		}
		scope, err := tx.Unit(ctx, g.Scope)
		if err != nil {
			continue
		}
		if scope.Contains(u) {
			return true, nil
		}
	}
	return false, nil
}

// mayActForApp: the app's access party, or an admin or contact covering its owner unit.
func mayActForApp(ctx context.Context, tx Directory, actor string, app org.App) (bool, error) {
	owner, err := tx.Unit(ctx, app.Owner)
	if err != nil {
		return false, err
	}
	return holdsOver(ctx, tx, actor, owner, app.Code, org.RoleAccessParty, org.RoleUnitAdmin, org.RoleUnitContact,
		org.RoleDistrictAdmin, org.RoleSysAdmin)
}

// pendingFor refuses a second pending request of the same kind on an app.
func pendingFor(ctx context.Context, tx Tx, kind Kind, app string) error {
	rs, err := tx.Requests(ctx, Filter{Pending: true, Limit: 1000})
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Kind == kind && r.App == app {
			return core.Conflict("request_pending", "id", itoa(r.ID), "app", app, "kind", string(kind))
		}
	}
	return nil
}

// appRequest checks a request of kind about app code may be made: the
// actor acts for the app, the app is in one of the statuses from, and no
// request of that kind is pending on it.
func appRequest(ctx context.Context, tx Ports, actor core.Actor, kind Kind, code string, from ...string) (org.App, error) {
	if _, err := activeActor(ctx, tx, actor); err != nil {
		return org.App{}, err
	}
	app, err := getApp(ctx, tx, code)
	if err != nil {
		return org.App{}, err
	}
	if ok, err := mayActForApp(ctx, tx, actor.UserID, app); err != nil {
		return org.App{}, err
	} else if !ok {
		return org.App{}, core.Forbidden("not_app_party", "app", code)
	}
	if !slices.Contains(from, app.Status) {
		return org.App{}, core.Conflict("app_status", "app", code, "status", app.Status, "kind", string(kind))
	}
	return app, pendingFor(ctx, tx, kind, code)
}

// RegisterApp records a new app (status registered). An admin or contact
// covering the owner unit, or an operator, may register it.
func (s *Service) RegisterApp(ctx context.Context, actor core.Actor, code, name, owner, scope, level string) (org.App, error) {
	if err := org.CheckCode("app", code); err != nil {
		return org.App{}, err
	}
	if err := core.CheckName("name", name, core.MaxName); err != nil {
		return org.App{}, err
	}
	if scope != "unit" && scope != "cross" {
		return org.App{}, core.Invalid("app_scope", "value", scope)
	}
	if level == "" {
		level = "unit"
	}
	if level != "city" && level != "district" && level != "unit" {
		return org.App{}, core.Invalid("app_level", "value", level)
	}
	var app org.App
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		u, err := getUnit(ctx, tx, owner)
		if err != nil {
			return err
		}
		ok, err := holdsOver(ctx, tx, actor.UserID, u, "", org.RoleUnitAdmin, org.RoleUnitContact, org.RoleDistrictAdmin, org.RoleSysAdmin, org.RoleOperator)
		if err != nil {
			return err
		}
		if !ok {
			return core.Forbidden("not_covering", "action", "app.register", "unit", owner)
		}
		if _, err := tx.App(ctx, code); err == nil {
			return core.Conflict("app_exists", "code", code)
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		app = org.App{Code: code, Name: strings.TrimSpace(name), Owner: owner, Scope: scope, Level: level, Status: AppRegistered}
		if err := tx.InsertApp(ctx, app); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "app.register", "app:"+code, nil, app)
	})
	return app, err
}

// RequestOnline asks for an app's onboarding (M 7.1.1): single-unit apps
// go to the owner unit's admin, cross-unit apps to the sys admin, then an
// operator carries it out.
func (s *Service) RequestOnline(ctx context.Context, actor core.Actor, code, note string) (Result, error) {
	return s.requestApp(ctx, actor, KindAppOnline, code, note, AppRegistered, AppOffline)
}

// RequestOffline asks for an app's offboarding (M 7.1.2), on the same routes.
func (s *Service) RequestOffline(ctx context.Context, actor core.Actor, code, note string) (Result, error) {
	return s.requestApp(ctx, actor, KindAppOffline, code, note, AppOnline)
}

func (s *Service) requestApp(ctx context.Context, actor core.Actor, kind Kind, code, note string, from ...string) (Result, error) {
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		app, err := appRequest(ctx, tx, actor, kind, code, from...)
		if err != nil {
			return err
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: kind, Route: string(kind) + "/" + app.Scope,
			Title: app.Name, App: code, Unit: app.Owner, Payload: map[string]string{"note": note, "scope": app.Scope}})
		return err
	})
	return res, err
}

// maxVersion is the longest release version, in bytes.
const maxVersion = 64

// RequestRelease asks to release a new version of an online app (M 7.2):
// approval by the admin of the app's level, then UAT, the release notice
// and the access party's release.
func (s *Service) RequestRelease(ctx context.Context, actor core.Actor, code, version, notes string) (Result, error) {
	version, notes = strings.TrimSpace(version), strings.TrimSpace(notes)
	if version == "" || len(version) > maxVersion {
		return Result{}, core.LimitError("version", "version", version, maxVersion)
	}
	if notes == "" {
		return Result{}, core.Invalid("notes_required")
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		app, err := appRequest(ctx, tx, actor, KindRelease, code, AppOnline)
		if err != nil {
			return err
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindRelease, Route: "app_release/" + app.Level,
			Title: app.Name + " " + version, App: code, Unit: app.Owner,
			Payload: map[string]string{"version": version, "notes": notes, "level": app.Level}})
		return err
	})
	return res, err
}

// RequestAppNotice asks to send a public notice about an online app to
// its users (M 7.3.3 b): its access party or an admin or contact covering
// its owner unit asks, the owner unit's admin approves, and the notice
// goes to every user and unit granted access to the app.
func (s *Service) RequestAppNotice(ctx context.Context, actor core.Actor, code, text string) (Result, error) {
	text = strings.TrimSpace(text)
	if err := core.CheckName("text", text, core.MaxNote); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		app, err := appRequest(ctx, tx, actor, KindAppNotice, code, AppOnline)
		if err != nil {
			return err
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindAppNotice, Route: "app_notice/unit",
			Title: app.Name, App: code, Unit: app.Owner, Payload: map[string]string{"text": text, "app_name": app.Name}})
		return err
	})
	return res, err
}

// RequestPermission asks to make an app visible to a user or unit, or to
// give an in-app permission (M 5.2.2). Only a unit admin or unit contact
// of the grantee's unit may ask; the district admin covering it approves.
func (s *Service) RequestPermission(ctx context.Context, actor core.Actor, code, to, kind string) (Result, error) {
	return s.permissionRequest(ctx, actor, KindPermission, code, to, kind)
}

// RequestRevoke asks to withdraw a permission on an app (M 5.2.2): on the
// grant's route (a unit admin or contact of the grantee's unit asks, the
// district admin covering it approves); on approval the grant goes,
// audited. It is refused when no such grant exists.
func (s *Service) RequestRevoke(ctx context.Context, actor core.Actor, code, from, kind string) (Result, error) {
	return s.permissionRequest(ctx, actor, KindRevoke, code, from, kind)
}

func (s *Service) permissionRequest(ctx context.Context, actor core.Actor, rk Kind, code, to, kind string) (Result, error) {
	if kind != "visible" && !(strings.HasPrefix(kind, "inapp:") && len(kind) > len("inapp:")) {
		return Result{}, core.Invalid("grant_kind", "value", kind)
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		app, err := getApp(ctx, tx, code)
		if err != nil {
			return err
		}
		if rk == KindPermission && app.Status != AppOnline {
			return core.Conflict("app_status", "app", code, "status", app.Status, "kind", string(KindPermission))
		}
		var grantee string
		var home org.Unit
		if u, err := tx.User(ctx, to); err == nil && !u.Removed {
			grantee = "user:" + u.ID
			home, err = tx.Unit(ctx, u.Unit)
			if err != nil {
				return err
			}
		} else if u, err := getUnit(ctx, tx, to); err == nil {
			grantee, home = "unit:"+u.Code, u
		} else {
			return core.NotFound("grantee_not_found", "value", to)
		}
		unit := home
		for unit.Level == org.LevelDepartment && unit.Parent != "" {
			if unit, err = tx.Unit(ctx, unit.Parent); err != nil {
				return err
			}
		}
		if unit.Level != org.LevelUnit {
			return core.Invalid("grantee_level", "value", to)
		}
		ok, err := holdsOver(ctx, tx, actor.UserID, unit, "", org.RoleUnitAdmin, org.RoleUnitContact)
		if err != nil {
			return err
		}
		if !ok {
			return core.Forbidden("need_unit_admin_or_contact", "unit", unit.Code)
		}
		title := app.Name + " → " + to
		if rk == KindRevoke {
			grants, err := tx.AppGrants(ctx, code)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(grants, func(g AppGrant) bool { return g.Grantee == grantee && g.Kind == kind }) {
				return core.NotFound("grant_not_found", "app", code, "grantee", to, "kind", kind)
			}
			title = app.Name + " ✕ " + to
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: rk, Route: "permission/unit",
			Title: title, App: code, Unit: unit.Code,
			Payload: map[string]string{"grantee": grantee, "grant": kind}})
		return err
	})
	return res, err
}

// revokeGrant withdraws the grant a revoke request names, audited; it is
// refused when the grant went meanwhile.
func (s *Service) revokeGrant(ctx context.Context, tx Ports, actor core.Actor, r Request) error {
	g, ok, err := tx.DeleteAppGrant(ctx, AppGrant{App: r.App, Grantee: r.Payload["grantee"], Kind: r.Payload["grant"]})
	if err != nil {
		return err
	}
	if !ok {
		return core.NotFound("grant_not_found", "app", r.App, "grantee", r.Payload["grantee"], "kind", r.Payload["grant"])
	}
	return core.Record(ctx, tx, s.clock.Now(), actor, "app.grant.revoke", "app:"+r.App, g,
		map[string]string{"reason": "revoke request", "request": r.Ref()})
}

// RequestOrgChange is a unit contact's (or unit admin's) request to the
// district admin covering their unit for an org change they describe (M
// 4.2.3 b). On approval the card moves to a "carry out" step for the
// admin, reminded until they mark it done: free text is never applied by
// itself. unit picks one of several units the actor covers ("" for their
// first).
func (s *Service) RequestOrgChange(ctx context.Context, actor core.Actor, unit, text string) (Result, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Result{}, core.Invalid("org_change_text")
	}
	if err := core.CheckName("text", text, core.MaxTitle*4); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		grants, err := actorGrants(ctx, tx, actor)
		if err != nil {
			return err
		}
		var u org.Unit
		for _, g := range grants {
			if (g.Role == org.RoleUnitContact || g.Role == org.RoleUnitAdmin) && (unit == "" || g.Scope == unit) {
				if u, err = getUnit(ctx, tx, g.Scope); err != nil {
					return err
				}
				break
			}
		}
		if u.Code == "" {
			return core.Forbidden("org_change_forbidden", "unit", unit)
		}
		title := text
		if r := []rune(title); len(r) > 40 {
			title = string(r[:40]) + "…"
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindOrgChange, Route: "org_change/district",
			Title: title, Unit: u.Code, Payload: map[string]string{"change": text, "unit": u.Code}})
		return err
	})
	return res, err
}

// RequestBackupAccess asks for access to a system's offline backup data
// (W 8.4.3 c: 调阅、复制、传输、查询 by an approved procedure, registered).
// A sys admin approves; on approval the access is registered (who, what,
// when, why) and listed by BackupAccess.
func (s *Service) RequestBackupAccess(ctx context.Context, actor core.Actor, system, reason string) (Result, error) {
	system, reason = strings.TrimSpace(system), strings.TrimSpace(reason)
	if err := core.CheckName("system", system, core.MaxName); err != nil {
		return Result{}, err
	}
	if reason == "" {
		return Result{}, core.Invalid("reason_required")
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		grants, err := actorGrants(ctx, tx, actor)
		if err != nil {
			return err
		}
		if len(grants) == 0 {
			return core.Forbidden("backup_access_need_role")
		}
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindBackupAccess, Route: "backup_access/city", Title: system,
			Unit: root.Code, Payload: map[string]string{"system": system, "reason": reason}})
		return err
	})
	return res, err
}

// BackupAccessEntry is one registered access to offline backup data.
type BackupAccessEntry struct {
	Request    int64     `json:"request"`
	Who        string    `json:"who"`
	System     string    `json:"system"`
	Reason     string    `json:"reason"`
	ApprovedBy string    `json:"approved_by"`
	At         time.Time `json:"at"` // when it was approved and registered
}

// BackupAccess is the register of approved accesses to offline backup
// data (W 8.4.3 c), newest first; operators and sys admins read it.
func (s *Service) BackupAccess(ctx context.Context, actor core.Actor) ([]BackupAccessEntry, error) {
	var out []BackupAccessEntry
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		if ok, err := holdsOver(ctx, tx, actor.UserID, root, "", org.RoleOperator, org.RoleSysAdmin); err != nil {
			return err
		} else if !ok {
			return core.Forbidden("backup_access_forbidden")
		}
		rs, err := tx.Requests(ctx, Filter{Kind: KindBackupAccess, Limit: 1000})
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.State != StateDone || r.ClosedAt == nil {
				continue
			}
			out = append(out, BackupAccessEntry{Request: r.ID, Who: r.Requester, System: r.Payload["system"],
				Reason: r.Payload["reason"], ApprovedBy: r.Payload["approved_by"], At: *r.ClosedAt})
		}
		return nil
	})
	return out, err
}

// Problems is the problem library as a change sees it (W 8.5/8.6): the
// title of a problem actor may see, or a not-found error.
type Problems interface {
	ProblemTitle(ctx context.Context, actor core.Actor, id int64) (string, error)
}

// SetProblems plugs the problem library changes are linked to.
func (s *Service) SetProblems(p Problems) { s.problems = p }

// LinkProblem links a change to the problem it fixes. Its requester, an
// operator or a sys admin may link it, in any state.
func (s *Service) LinkProblem(ctx context.Context, actor core.Actor, id, problemID int64) (Request, error) {
	if s.problems == nil {
		return Request{}, core.Invalid("problems_off")
	}
	title, err := s.problems.ProblemTitle(ctx, actor, problemID)
	if err != nil {
		return Request{}, err
	}
	var out Request
	err = s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		r, err := lockRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Kind != KindChange {
			return core.Invalid("not_change", "id", itoa(id), "kind", string(r.Kind))
		}
		if r.Requester != actor.UserID {
			root, err := tx.Root(ctx)
			if err != nil {
				return err
			}
			if ok, err := holdsOver(ctx, tx, actor.UserID, root, "", org.RoleOperator, org.RoleSysAdmin); err != nil {
				return err
			} else if !ok {
				return core.Forbidden("change_link_forbidden", "id", itoa(id))
			}
		}
		before := r
		before.Payload = maps.Clone(r.Payload)
		if r.Payload == nil {
			r.Payload = map[string]string{}
		}
		r.Payload["problem"] = "#" + itoa(problemID) + " " + title
		r.Payload["problem_id"] = itoa(problemID)
		r.UpdatedAt = s.clock.Now()
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		return core.Record(ctx, tx, s.clock.Now(), actor, "change.link", r.Ref(), before.Payload,
			map[string]string{"problem": "problem:" + itoa(problemID)})
	})
	return out, err
}

// CompleteChange reports a change carried out (W 8.6 e): its result and
// the record of the tests before and after it, both required; a change's
// completion without them is refused with the reason.
func (s *Service) CompleteChange(ctx context.Context, actor core.Actor, id int64, result, before, after string) (Result, error) {
	return s.decide(ctx, actor, id, 0, VerbDone, result, extra{tests: &testRecord{before: strings.TrimSpace(before), after: strings.TrimSpace(after)}})
}

// testRecord is a change's record of tests before and after it.
type testRecord struct{ before, after string }

// ChangeInput describes a change (W 8.6 b: the plan names at least its
// target, time, staff, urgency, steps, test plan, implementation plan and
// rollback).
type ChangeInput struct {
	Title, Target, Risk, Plan, Rollback string
	TestPlan, Steps                     string
	Staff                               []string // user ids of who carries it out
	Start, End                          time.Time
	Emergency                           bool
}

// RequestChange asks for a change. A normal change must not touch daytime
// operations on a working day (the refusal suggests the next allowed
// window); an emergency change may, with a second approval.
func (s *Service) RequestChange(ctx context.Context, actor core.Actor, in ChangeInput) (Result, error) {
	if err := core.CheckName("title", in.Title, core.MaxTitle); err != nil {
		return Result{}, err
	}
	switch {
	case strings.TrimSpace(in.Target) == "":
		return Result{}, core.Invalid("change_target")
	case in.Risk != "low" && in.Risk != "medium" && in.Risk != "high":
		return Result{}, core.Invalid("change_risk", "value", in.Risk)
	case strings.TrimSpace(in.Plan) == "" || strings.TrimSpace(in.Rollback) == "":
		return Result{}, core.Invalid("change_plan_required")
	}
	var missing []string
	for _, f := range []struct{ flag, v string }{{"--test-plan", in.TestPlan}, {"--steps", in.Steps}, {"--staff", strings.Join(in.Staff, "")}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return Result{}, core.Invalid("change_record_required", "missing", strings.Join(missing, " "))
	}
	if err := s.checkWindow(in.Start, in.End, in.Emergency); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		grants, err := actorGrants(ctx, tx, actor)
		if err != nil {
			return err
		}
		if len(grants) == 0 {
			return core.Forbidden("need_role", "action", "change.new")
		}
		for _, id := range in.Staff {
			if u, err := tx.User(ctx, id); err != nil || u.Removed {
				return core.NotFound("change_staff", "id", id)
			}
		}
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		route := "change/normal"
		if in.Emergency {
			route = "change/emergency"
		}
		r := Request{Kind: KindChange, Route: route, Title: in.Title, Unit: root.Code,
			Payload: map[string]string{"target": in.Target, "risk": in.Risk, "plan": in.Plan, "rollback": in.Rollback,
				"test_plan": in.TestPlan, "steps": in.Steps, "staff": strings.Join(in.Staff, ","), "emergency": boolText(in.Emergency)}}
		r.Payload["window"] = s.setWindow(&r, in.Start, in.End)
		delete(r.Payload, "window_approved")
		if res, err = s.submit(ctx, tx, actor, r); err != nil {
			return err
		}
		// Not started by the end of its window, approved or not, it expires.
		return tx.Schedule(ctx, core.Timer{Kind: TimerWindowEnd, Ref: res.Request.Ref(), DueAt: in.End,
			Data: map[string]string{"step": "1"}})
	})
	return res, err
}

// windowLayout is how windows are written in payloads and refusals.
const windowLayout = "2006-01-02 15:04"

// checkWindow checks a change window: in order, not over, and for a normal
// change clear of working-day daytime operations (the refusal suggests the
// next allowed window).
func (s *Service) checkWindow(start, end time.Time, emergency bool) error {
	switch {
	case !end.After(start):
		return core.Invalid("window_order")
	case end.Before(s.clock.Now()):
		return core.Invalid("window_past")
	}
	if emergency {
		return nil
	}
	loc := s.cal.Location()
	if from, to, overlap := s.cal.Overlap(start, end, s.cfg.Daytime); overlap {
		next := s.cal.NextOutside(maxTime(start, s.clock.Now()), end.Sub(start), s.cfg.Daytime)
		return core.Invalid("change_window_daytime",
			"from", from.In(loc).Format(windowLayout), "to", to.In(loc).Format(windowLayout),
			"next_start", next.In(loc).Format(windowLayout), "next_end", next.Add(end.Sub(start)).In(loc).Format(windowLayout))
	}
	return nil
}

// setWindow makes start–end the window r may be carried out in and
// returns it as text; the requested window stays in "window".
func (s *Service) setWindow(r *Request, start, end time.Time) string {
	loc := s.cal.Location()
	text := start.In(loc).Format(windowLayout) + " ~ " + end.In(loc).Format(windowLayout)
	r.Payload["window_approved"] = text
	r.Payload["window_start"], r.Payload["window_end"] = start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
	return text
}

// changeWindow returns the window a change may be carried out in and its
// text. Requests of earlier releases have no "window_start": their start
// is read from the window's text.
func (s *Service) changeWindow(r Request) (start, end time.Time, text string, ok bool) {
	text = r.Payload["window_approved"]
	if text == "" {
		text = r.Payload["window"]
	}
	end, err := time.Parse(time.RFC3339, r.Payload["window_end"])
	if err != nil {
		return start, end, text, false
	}
	if start, err = time.Parse(time.RFC3339, r.Payload["window_start"]); err == nil {
		return start, end, text, true
	}
	from, _, _ := strings.Cut(r.Payload["window"], " ~ ")
	start, err = time.ParseInLocation(windowLayout, from, s.cal.Location())
	return start, end, text, err == nil
}

// startable refuses to start a change outside its window (W 8.6 d): not
// before it opens, unless it is an emergency change (which may start as
// soon as it is approved), and never after it closed.
func (s *Service) startable(r Request) error {
	start, end, text, ok := s.changeWindow(r)
	if !ok {
		return nil
	}
	now := s.clock.Now()
	switch {
	case !now.Before(end):
		return core.Conflict("change_window_expired", "id", itoa(r.ID), "window", text)
	case now.Before(start) && r.Payload["emergency"] != "yes":
		return core.Conflict("change_window_not_open", "id", itoa(r.ID), "window", text,
			"start", start.In(s.cal.Location()).Format(windowLayout))
	}
	return nil
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RequestOperation asks for a special or temporary operation that two
// people other than the requester must approve before it starts (W 8.2 c).
func (s *Service) RequestOperation(ctx context.Context, actor core.Actor, title, reason string) (Result, error) {
	if err := core.CheckName("title", title, core.MaxTitle); err != nil {
		return Result{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Result{}, core.Invalid("reason_required")
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		ok, err := holdsOver(ctx, tx, actor.UserID, root, "", org.RoleOperator, org.RoleSysAdmin)
		if err != nil {
			return err
		}
		if !ok {
			return core.Forbidden("need_operator", "action", "op.request")
		}
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindOperation, Route: "operation/dual", Title: title, Unit: root.Code,
			Payload: map[string]string{"reason": reason}})
		return err
	})
	return res, err
}

// effects applies what completing step st with dec means for r's kind.
func (s *Service) effects(ctx context.Context, tx Ports, actor core.Actor, r *Request, st Step, dec Decision, x extra) error {
	if r.Payload == nil {
		r.Payload = map[string]string{}
	}
	now := s.clock.Now()
	switch {
	case (r.Kind == KindAppOnline || r.Kind == KindAppOffline) && st.Name == "execute":
		app, err := getApp(ctx, tx, r.App)
		if err != nil {
			return err
		}
		before := app
		app.Status = AppOnline
		if r.Kind == KindAppOffline {
			app.Status = AppOffline
			grants, err := tx.DeleteAppGrants(ctx, app.Code)
			if err != nil {
				return err
			}
			for _, g := range grants {
				if err := core.Record(ctx, tx, s.clock.Now(), actor, "app.grant.revoke", "app:"+app.Code, g, map[string]string{"reason": "app offline"}); err != nil {
					return err
				}
			}
		}
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		if err := core.Record(ctx, tx, s.clock.Now(), actor, "app.status", "app:"+app.Code, before, app); err != nil {
			return err
		}
		status := AppStatus{ID: r.ID, App: r.App, AppName: app.Name, Title: r.Title, Note: dec.Note}
		if r.Kind == KindAppOffline {
			return s.announce(ctx, tx, *r, AppWentOffline{status})
		}
		return s.announce(ctx, tx, *r, AppWentOnline{status})
	case r.Kind == KindRevoke && st.Name == "approve":
		return s.revokeGrant(ctx, tx, actor, *r)
	case r.Kind == KindBackupAccess && st.Name == "approve":
		// Registered: who, what, when, why (W 8.4.3 c).
		r.Payload["approved_by"], r.Payload["registered_at"] = actor.UserID, now.UTC().Format(time.RFC3339)
		return core.Record(ctx, tx, now, actor, "backup.access.register", r.Ref(), nil, map[string]string{
			"who": r.Requester, "system": r.Payload["system"], "reason": r.Payload["reason"], "at": now.UTC().Format(time.RFC3339)})
	case r.Kind == KindAppOnline && st.Name == "systest":
		r.Payload["systest"], r.Payload["systest_by"], r.Payload["systest_note"] = "pass", actor.UserID, dec.Note
	case r.Kind == KindPermission && st.Name == "approve":
		g := AppGrant{App: r.App, Grantee: r.Payload["grantee"], Kind: r.Payload["grant"], RequestID: r.ID, GrantedAt: now}
		if err := tx.UpsertAppGrant(ctx, g); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "app.grant", "app:"+r.App, nil, g)
	case r.Kind == KindRelease && st.Name == "notice":
		// The operator tells the city admins and posts the release notice.
		root, err := tx.Root(ctx)
		if err != nil {
			return err
		}
		admins, err := holders(ctx, tx, []org.Role{org.RoleSysAdmin}, target{unit: &root})
		if err != nil {
			return err
		}
		rel := Release{ID: r.ID, App: r.App, Title: r.Title, Version: r.Payload["version"], Notes: r.Payload["notes"],
			ByName: actor.Name, Note: dec.Note}
		for _, u := range admins {
			if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{User: u}, Body: ReleaseAdmin{rel}}); err != nil {
				return err
			}
		}
		// The notice goes to the app's users on their own platforms
		// (M 7.2.2), once each; the city admins had theirs.
		if err := notifyAppUsers(ctx, tx, *r, ReleaseNotice{rel}, admins); err != nil {
			return err
		}
		return s.announce(ctx, tx, *r, ReleaseNotice{rel})
	case r.Kind == KindAppNotice && st.Name == "approve":
		// An approved public notice goes to the app's users and the channel.
		n := AppNotice{ID: r.ID, App: r.App, AppName: r.Payload["app_name"], Text: r.Payload["text"],
			Requester: r.Requester, ByName: actor.Name}
		if err := notifyAppUsers(ctx, tx, *r, n, nil); err != nil {
			return err
		}
		return s.announce(ctx, tx, *r, n)
	case r.Kind == KindRelease && st.Name == "release":
		app, err := getApp(ctx, tx, r.App)
		if err != nil {
			return err
		}
		before := app
		app.Version = r.Payload["version"]
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "app.release", "app:"+app.Code, before, app)
	case r.Kind == KindChange && (st.Name == "approve" || st.Name == "approve2"):
		// Once approved the change waits for its window; not started by its
		// end, it expires.
		if r.Payload["window_approved"] == "" {
			r.Payload["window_approved"] = r.Payload["window"]
		}
		if end, err := time.Parse(time.RFC3339, r.Payload["window_end"]); err == nil {
			if err := tx.CancelTimers(ctx, r.Ref(), TimerWindowEnd); err != nil {
				return err
			}
			return tx.Schedule(ctx, core.Timer{Kind: TimerWindowEnd, Ref: r.Ref(), DueAt: end,
				Data: map[string]string{"step": itoa(int64(r.Step + 1))}})
		}
	case r.Kind == KindChange && st.Name == "implement":
		r.Payload["implementer"], r.Payload["started_at"] = actor.UserID, now.UTC().Format(time.RFC3339)
		return tx.CancelTimers(ctx, r.Ref(), TimerWindowEnd)
	case r.Kind == KindChange && st.Name == "complete":
		r.Payload["result"] = dec.Note
		r.Payload["test_before"], r.Payload["test_after"] = x.tests.before, x.tests.after
	case r.Kind == KindChange && st.Name == "review":
		r.Payload["review"], r.Payload["reviewer"] = dec.Verb, actor.UserID
	case r.Kind == KindOperation && st.Name == "execute":
		r.Payload["result"], r.Payload["executor"] = dec.Note, actor.UserID
	case r.Kind == KindOperation && st.Name == "check":
		r.Payload["check"], r.Payload["checker"] = dec.Verb, actor.UserID
	}
	return nil
}

// announce posts an announcement to the approvals channel.
func (s *Service) announce(ctx context.Context, tx core.Recorder, r Request, p core.Payload) error {
	if s.cfg.Channel == "" {
		return nil
	}
	return tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{Channel: s.cfg.Channel}, Body: p})
}

// Apps lists every app.
func (s *Service) Apps(ctx context.Context, actor core.Actor) ([]org.App, error) {
	var out []org.App
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		out, err = tx.Apps(ctx)
		return err
	})
	return out, err
}

// AppInfo is an app with its grants and pending requests.
type AppInfo struct {
	App     org.App
	Grants  []AppGrant
	Pending []Request
}

// ShowApp returns an app with who may see it and what is pending on it.
func (s *Service) ShowApp(ctx context.Context, actor core.Actor, code string) (AppInfo, error) {
	var info AppInfo
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if info.App, err = getApp(ctx, tx, code); err != nil {
			return err
		}
		if info.Grants, err = tx.AppGrants(ctx, code); err != nil {
			return err
		}
		rs, err := tx.Requests(ctx, Filter{Pending: true, Limit: 1000})
		for _, r := range rs {
			if r.App == code {
				info.Pending = append(info.Pending, r)
			}
		}
		return err
	})
	return info, err
}
