package emergency

import (
	"context"
	"fmt"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/routine"
)

// ReportLevel is the highest level number reported
// to superiors: levels I (特别重大) and II (重大).
const ReportLevel = 2

// Reporter sends the continuous reports of level I/II incidents to the
// report path (W 9.3 f "持续报告"): at declaration, at every change of
// state, level or owner, at each progress update and at closure. It is
// the incident service's Watcher.
type Reporter struct {
	clock core.Clock
	path  Path
}

// NewReporter returns the reporter along path.
func NewReporter(clock core.Clock, path Path) *Reporter { return &Reporter{clock: clock, path: path} }

// reported lists the actions reported whatever changed.
var reported = map[string]bool{"incident.declare": true, "incident.update": true, "incident.escalate": true, "incident.review": true}

// Changed reports a change of a level I/II incident (or one that was
// level I/II before the change) along the report path.
func (r *Reporter) Changed(ctx context.Context, tx core.Tx, actor core.Actor, action string, i incident.Incident, before any) error {
	if r == nil || len(r.path.Channels)+len(r.path.Users)+len(r.path.Roles) == 0 {
		return nil
	}
	level := i.Level
	b, had := before.(incident.Incident)
	if had && b.Level < level {
		level = b.Level
	}
	if level > ReportLevel {
		return nil
	}
	if !reported[action] && (!had || b.State == i.State && b.Level == i.Level && b.Owner == i.Owner) {
		return nil
	}
	dir, ok := tx.(routine.Directory)
	if !ok {
		return fmt.Errorf("emergency: report in a %T, which has no org look-up", tx)
	}
	to, err := r.path.Recipients(ctx, dir)
	if err != nil {
		return err
	}
	return send(ctx, tx, i.Ref(), to, IncidentReport{Incident: i.ID, Title: i.Title, Level: i.Level, State: i.State, Action: action,
		System: i.System, Unit: i.Unit, Owner: i.Owner, Summary: i.Summary, By: actor.UserID, At: r.clock.Now(), Declared: i.CreatedAt})
}
