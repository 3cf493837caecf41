package approval

import (
	"context"
	"errors"
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
		if app.Status != AppOnline {
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
		res, err = s.submit(ctx, tx, actor, Request{Kind: KindPermission, Route: "permission/unit",
			Title: app.Name + " → " + to, App: code, Unit: unit.Code,
			Payload: map[string]string{"grantee": grantee, "grant": kind}})
		return err
	})
	return res, err
}

// ChangeInput describes a change (W 8.6).
type ChangeInput struct {
	Title, Target, Risk, Plan, Rollback string
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
	if err := s.checkWindow(in.Start, in.End, in.Emergency); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.store.InTx(ctx, func(tx Ports) error {
		if _, err := activeActor(ctx, tx, actor); err != nil {
			return err
		}
		grants, err := tx.GrantsOf(ctx, actor.UserID)
		if err != nil {
			return err
		}
		if len(grants) == 0 {
			return core.Forbidden("need_role", "action", "change.new")
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
				"emergency": boolText(in.Emergency)}}
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
func (s *Service) effects(ctx context.Context, tx Ports, actor core.Actor, r *Request, st Step, dec Decision) error {
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
