// Package emergency keeps the emergency-plan register and its drills (W
// 9.1 k, W 9.3), early warnings (W 9.3 a) and the continuous reports of
// level I/II incidents to superiors (W 9.3 f, "持续报告").
//
// A plan is reviewed at least once a year: its review falls due one year
// after its last review (or its creation); a reminder goes to the
// operators ReviewLead before, and a review still missing at the due
// date is escalated to the sys admins ("emergency:review" timers).
//
//	plan: registered → reviewed (yearly) → …
//	drill: scheduled → recorded (findings become actions)
//	finding: open → done
//	warning: issued → lifted
//
// A drill is reminded to its participants the day before
// ("emergency:drill"); each finding of a recorded drill is an action with
// an owner and a due date, reminded on that date and escalated to the sys
// admins a day later while open ("emergency:finding").
//
// Warnings and incident reports go along the report path (config
// emergency.report_path: channels, users and roles). The Reporter
// watches incident changes through incident.Watcher, so core/incident
// only calls one hook when it audits a change.
package emergency
