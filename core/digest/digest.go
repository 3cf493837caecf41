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

	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/ticket"
)

// Task and notice kinds.
const (
	TaskDaily    = "digest:daily"
	NoticeDigest = "digest.daily"
)

// Scope is what a digest covers.
type Scope struct {
	Kind  string   // city | district | unit
	Units []string // the scope units' codes (empty for the city)
}

// Point is one day of the chart.
type Point struct {
	Day       string // YYYY-MM-DD
	Incidents int
	SLA       int // % of tickets answered in time, -1 when none fell due or were answered
}

// Digest is one manager's digest for a day.
type Digest struct {
	Day               string
	Scope             Scope
	ScopeNames        []string
	Opened, Closed    int
	OpenByLevel       [5]int // index 1..4
	MTTA, MTTR        time.Duration
	Acked, Resolved   int // incidents the MTTA / MTTR average over
	Escalations       int
	TicketsDueToday   int
	TicketsOverdue    int
	ApprovalsWaiting  int // pending for more than a day
	InspectionsDone   int
	InspectionsMissed int
	InspectionsOpen   int
	BackupsOK         int
	BackupsFailed     int
	BackupsMissing    int
	OnDuty            []string // "rotation: primary / secondary"
	Series            []Point
}

// Tx is what digests need from a store.
type Tx interface {
	incident.Tx
	approval.Tx
	ticket.Tx
	inspect.Tx
	backup.Tx
	// IncidentsSince lists incidents created at or after since, or still open.
	IncidentsSince(ctx context.Context, since time.Time) ([]incident.Incident, error)
	// EventIncidents lists the incident of every event of kind in [from, to).
	EventIncidents(ctx context.Context, kind string, from, to time.Time) ([]int64, error)
	// TicketsSince lists tickets not closed before since, or due or answered since.
	TicketsSince(ctx context.Context, since time.Time) ([]ticket.Ticket, error)
	// MarkDigestSent records a digest for user on day; false when it was sent already.
	MarkDigestSent(ctx context.Context, day, user string, at time.Time) (bool, error)
	// DigestOptOut reports whether user unsubscribed (nil: never said).
	DigestSubscription(ctx context.Context, user string) (*bool, error)
	SetDigestSubscription(ctx context.Context, user string, on bool) error
}

// Store runs digest work in transactions.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
