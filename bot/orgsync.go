package bot

import (
	"context"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
)

// Kinds of org-sync changes.
const (
	SyncUnitAdd    = "unit.add"
	SyncUnitRename = "unit.rename"
	SyncUserAdd    = "user.add"
	SyncUserMove   = "user.move"
	SyncUserLink   = "user.link"
)

// OrgSyncChange is one change a platform's contacts sync makes.
type OrgSyncChange struct{ Kind, Subject, Name, From, To, Level string }

// OrgSyncSkip is something the sync leaves alone, with a reason code.
type OrgSyncSkip struct{ What, Reason, Detail string }

// OrgSyncFailure is a change that failed when applied.
type OrgSyncFailure struct {
	Step string
	Err  error
}

// OrgSyncReport is a sync's preview or outcome.
type OrgSyncReport struct {
	Changes       []OrgSyncChange
	Skipped       []OrgSyncSkip
	NotInPlatform []string
	Done          int
	Failed        []OrgSyncFailure
}

// OrgSyncer pulls a platform's contacts into the org (/org sync <platform>).
type OrgSyncer interface {
	// Preview says what a sync would change (sys_admin only).
	Preview(ctx context.Context, actor core.Actor) (OrgSyncReport, error)
	// Run plans afresh and applies (sys_admin only).
	Run(ctx context.Context, actor core.Actor) (OrgSyncReport, error)
}

// contactsSync is core/org's contacts sync as an OrgSyncer.
type contactsSync struct{ s *org.Syncer }

// NewOrgSyncer returns the OrgSyncer of core/org's contacts sync s.
func NewOrgSyncer(s *org.Syncer) OrgSyncer { return contactsSync{s: s} }

// Preview is what /org sync <platform> would change.
func (c contactsSync) Preview(ctx context.Context, actor core.Actor) (OrgSyncReport, error) {
	plan, err := c.s.Plan(ctx, actor)
	if err != nil {
		return OrgSyncReport{}, err
	}
	return syncReport(plan), nil
}

// Run plans afresh and applies.
func (c contactsSync) Run(ctx context.Context, actor core.Actor) (OrgSyncReport, error) {
	plan, res, err := c.s.Apply(ctx, actor)
	if err != nil {
		return OrgSyncReport{}, err
	}
	r := syncReport(plan)
	r.Done = res.Done
	for _, f := range res.Failed {
		r.Failed = append(r.Failed, OrgSyncFailure{Step: f.Step, Err: f.Err})
	}
	return r, nil
}

func syncReport(p org.SyncPlan) OrgSyncReport {
	var r OrgSyncReport
	for _, u := range p.AddUnits {
		r.Changes = append(r.Changes, OrgSyncChange{Kind: SyncUnitAdd, Subject: u.Code, Name: u.Name, To: u.Parent, Level: string(u.Level)})
	}
	for _, u := range p.RenameUnits {
		r.Changes = append(r.Changes, OrgSyncChange{Kind: SyncUnitRename, Subject: u.Code, From: u.From, To: u.To})
	}
	for _, u := range p.AddUsers {
		r.Changes = append(r.Changes, OrgSyncChange{Kind: SyncUserAdd, Subject: u.ID, Name: u.Name, To: u.Unit})
	}
	for _, m := range p.MoveUsers {
		r.Changes = append(r.Changes, OrgSyncChange{Kind: SyncUserMove, Subject: m.ID, Name: m.Name, From: m.From, To: m.To})
	}
	for _, l := range p.Links {
		r.Changes = append(r.Changes, OrgSyncChange{Kind: SyncUserLink, Subject: l.UserID, To: l.ExternalID})
	}
	for _, k := range p.Skipped {
		r.Skipped = append(r.Skipped, OrgSyncSkip{What: k.What, Reason: k.Reason, Detail: k.Detail})
	}
	r.NotInPlatform = p.NotInPlatform
	return r
}

// SetOrgSync registers a platform's contacts sync.
func (b *Bot) SetOrgSync(platform string, s OrgSyncer) { b.syncers[platform] = s }

// orgSyncCommands are /org sync and the buttons of its preview.
func (b *Bot) orgSyncCommands() ([]*Command, map[string]ActionFunc) {
	cmds := []*Command{{Path: "org sync", Usage: "wecom", MinArgs: 1, MaxArgs: 1, Topic: "org", Run: b.orgSync}}
	actions := map[string]ActionFunc{}
	actions["org.sync.apply"] = func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		s, ok := b.syncers[ev.Value]
		if !ok {
			return nil, core.Invalid("sync_platform", "value", ev.Value)
		}
		rep, err := s.Run(ctx, actor)
		b.people.forget() // names may have come or changed, even on a partial run
		if err != nil {
			return nil, err
		}
		lines := []string{b.t("sync.done", "done", strconv.Itoa(rep.Done))}
		for _, f := range rep.Failed {
			lines = append(lines, b.t("sync.failed", "step", f.Step, "err", b.ErrorReply(f.Err, nil).Text))
		}
		return reply(Message{Ref: "sync:" + ev.Value, Title: b.t("sync.done.title"), Text: strings.Join(lines, "\n")})
	}
	actions["org.sync.cancel"] = func(ctx context.Context, actor core.Actor, ev Event) ([]Message, error) {
		return reply(Message{Ref: "sync:" + ev.Value, Text: b.t("sync.cancelled")})
	}
	return cmds, actions
}

func (b *Bot) orgSync(ctx context.Context, r *Request) ([]Message, error) {
	platform := canonicalValue(r.Args[0])
	s, ok := b.syncers[platform]
	switch {
	case !ok && platform == core.PlatformWeCom:
		return nil, core.Conflict("sync_not_configured", "platform", b.t("platform."+platform))
	case !ok:
		return nil, core.Invalid("sync_platform", "value", r.Args[0])
	}
	rep, err := s.Preview(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	var lines []string
	for _, c := range rep.Changes {
		count[c.Kind]++
		switch c.Kind {
		case SyncUnitAdd:
			lines = append(lines, "- "+b.t("sync.unit.add", "code", c.Subject, "name", c.Name, "parent", c.To, "level", b.t("level."+c.Level)))
		case SyncUnitRename:
			lines = append(lines, "- "+b.t("sync.unit.rename", "code", c.Subject, "from", c.From, "to", c.To))
		case SyncUserAdd:
			lines = append(lines, "- "+b.t("sync.user.add", "id", c.Subject, "name", c.Name, "unit", c.To))
		case SyncUserMove:
			lines = append(lines, "- "+b.t("sync.user.move", "id", c.Subject, "name", c.Name, "from", c.From, "to", c.To))
		case SyncUserLink:
			lines = append(lines, "- "+b.t("sync.user.link", "id", c.Subject, "external", c.To))
		}
	}
	for _, k := range rep.Skipped {
		lines = append(lines, "- "+b.t("sync.skipped", "what", k.What, "reason", b.t("sync.skip."+k.Reason, "detail", k.Detail)))
	}
	if len(rep.NotInPlatform) > 0 {
		lines = append(lines, b.t("sync.not_in_platform", "count", strconv.Itoa(len(rep.NotInPlatform)), "ids", strings.Join(rep.NotInPlatform, "、")))
	}
	m := Message{Ref: "sync:" + platform, Title: b.t("sync.preview.title", "platform", b.t("platform."+platform)),
		Fields: []Field{{Name: b.t("field.sync_summary"), Value: b.t("sync.summary", "units", strconv.Itoa(count[SyncUnitAdd]),
			"renames", strconv.Itoa(count[SyncUnitRename]), "users", strconv.Itoa(count[SyncUserAdd]), "moves", strconv.Itoa(count[SyncUserMove]),
			"links", strconv.Itoa(count[SyncUserLink]))}}}
	if len(rep.Changes) == 0 {
		lines = append([]string{b.t("sync.nothing")}, lines...)
	} else {
		m.Buttons = []Button{
			{Action: "org.sync.apply", Value: platform, Label: b.t("sync.button.apply"), Style: "primary", Confirm: b.t("sync.confirm")},
			{Action: "org.sync.cancel", Value: platform, Label: b.t("sync.button.cancel")},
		}
	}
	m.Text = strings.Join(lines, "\n")
	return reply(m)
}
