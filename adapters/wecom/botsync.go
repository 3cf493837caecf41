package wecom

import (
	"context"

	"opsbot/bot"
	"opsbot/core"
)

var _ bot.OrgSyncer = (*Syncer)(nil)

// Preview is bot.OrgSyncer: what /org sync wecom would change.
func (s *Syncer) Preview(ctx context.Context, actor core.Actor) (bot.OrgSyncReport, error) {
	plan, err := s.Plan(ctx, actor)
	if err != nil {
		return bot.OrgSyncReport{}, err
	}
	return report(plan), nil
}

// Run is bot.OrgSyncer: plan afresh and apply.
func (s *Syncer) Run(ctx context.Context, actor core.Actor) (bot.OrgSyncReport, error) {
	plan, res, err := s.Apply(ctx, actor)
	if err != nil {
		return bot.OrgSyncReport{}, err
	}
	r := report(plan)
	r.Done = res.Done
	for _, f := range res.Failed {
		r.Failed = append(r.Failed, bot.OrgSyncFailure{Step: f.Step, Err: f.Err})
	}
	return r, nil
}

func report(p Plan) bot.OrgSyncReport {
	var r bot.OrgSyncReport
	for _, u := range p.AddUnits {
		r.Changes = append(r.Changes, bot.OrgSyncChange{Kind: bot.SyncUnitAdd, Subject: u.Code, Name: u.Name, To: u.Parent, Level: string(u.Level)})
	}
	for _, u := range p.RenameUnits {
		r.Changes = append(r.Changes, bot.OrgSyncChange{Kind: bot.SyncUnitRename, Subject: u.Code, From: u.From, To: u.To})
	}
	for _, u := range p.AddUsers {
		r.Changes = append(r.Changes, bot.OrgSyncChange{Kind: bot.SyncUserAdd, Subject: u.ID, Name: u.Name, To: u.Unit})
	}
	for _, m := range p.MoveUsers {
		r.Changes = append(r.Changes, bot.OrgSyncChange{Kind: bot.SyncUserMove, Subject: m.ID, Name: m.Name, From: m.From, To: m.To})
	}
	for _, l := range p.Links {
		r.Changes = append(r.Changes, bot.OrgSyncChange{Kind: bot.SyncUserLink, Subject: l.UserID, To: l.WeComID})
	}
	for _, k := range p.Skipped {
		r.Skipped = append(r.Skipped, bot.OrgSyncSkip{What: k.What, Reason: k.Reason, Detail: k.Detail})
	}
	r.NotInPlatform = p.NotInWeCom
	return r
}
