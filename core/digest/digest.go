// Package digest builds the managers' daily digest (M 6.1): for a scope
// (sys_admin: the city; district_admin: the district; unit_admin: the
// unit) it counts incidents opened, closed and open by level, MTTA and
// MTTR, escalations, tickets due and overdue, approvals pending for more
// than a day, inspections, backups and who is on duty, with a 14-day
// series of incidents per day and ticket SLA compliance for the chart.
//
// At the configured time on working days each manager gets one digest:
// a digest_sent row per day and manager, inserted with the notice, makes
// a second scheduler (or a retried task) send nothing more.
package digest

import (
	"context"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/ticket"
)

// TaskDaily is the periodic job that sends the daily digests.
const TaskDaily = "digest:daily"

// Scope is what a digest covers.
type Scope struct {
	Kind  string   `json:"kind"`            // city | district | unit
	Units []string `json:"units,omitempty"` // the scope units' codes (empty for the city)
}

// Point is one day of the chart.
type Point struct {
	Day       time.Time `json:"day"` // midnight in the calendar's zone
	Incidents int       `json:"incidents"`
	SLA       int       `json:"sla"` // % of tickets answered in time, -1 when none fell due or were answered
}

// Tx is what a digest writes, in the transaction that reads its numbers:
// the sent mark, the subscription, the notice and the audit entry.
type Tx interface {
	core.Recorder
	// MarkDigestSent records a digest for user on day; false when it was sent already.
	MarkDigestSent(ctx context.Context, day, user string, at time.Time) (bool, error)
	// DigestSubscription reports whether user subscribed (nil: never said).
	DigestSubscription(ctx context.Context, user string) (*bool, error)
	SetDigestSubscription(ctx context.Context, user string, on bool) error
}

// OrgReader is what a digest reads from the org: who manages what.
type OrgReader interface {
	// GrantsOf returns a user's grants, ordered by role then scope.
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	// Holders returns the active users holding role (on any scope), ordered by id.
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
	Root(ctx context.Context) (org.Unit, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	// Subtree returns the active units under the path prefix, ordered by path.
	Subtree(ctx context.Context, pathPrefix string) ([]org.Unit, error)
}

// IncidentReader is what a digest reads about incidents and duty.
type IncidentReader interface {
	// IncidentsSince lists incidents created at or after since, or still open.
	IncidentsSince(ctx context.Context, since time.Time) ([]incident.Incident, error)
	// EventIncidents lists the incident of every event of kind in [from, to).
	EventIncidents(ctx context.Context, kind string, from, to time.Time) ([]int64, error)
	Rotations(ctx context.Context) ([]duty.Rotation, error)
	// Overrides returns a rotation's shift overrides.
	Overrides(ctx context.Context, rotation string) (map[string]string, error)
}

// WorkReader is what a digest reads about the other work on the
// platform: tickets, approvals, inspections and backups.
type WorkReader interface {
	// TicketsSince lists tickets not closed before since, or due or answered since.
	TicketsSince(ctx context.Context, since time.Time) ([]ticket.Ticket, error)
	Requests(ctx context.Context, f approval.Filter) ([]approval.Request, error)
	// Runs lists the inspection runs of a plan (0: every plan) due in [from, to).
	Runs(ctx context.Context, planID int64, from, to time.Time, limit int) ([]inspect.Run, error)
	// BackupChecks lists the daily backup checks of a plan (0: every plan) on days first..last.
	BackupChecks(ctx context.Context, planID int64, first, last string) ([]backup.Check, error)
}

// Reads are the read ports a digest counts from, all in its transaction.
type Reads struct {
	Org       OrgReader
	Incidents IncidentReader
	Work      WorkReader
}

// Store runs digest work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx, r Reads) error) error
}
