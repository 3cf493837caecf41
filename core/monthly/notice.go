package monthly

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Report is one manager's monthly report: the payload of the monthly
// notice.
type Report struct {
	Month string `json:"month"` // YYYY-MM reported
	// Scope is "city", or "units" with Units the top units of the view.
	Scope       string      `json:"scope"`
	Units       []string    `json:"units,omitempty"`
	UnitNames   []string    `json:"unit_names,omitempty"` // Units' names
	Incidents   Incidents   `json:"incidents"`
	Tickets     Tickets     `json:"tickets"`
	Approvals   Approvals   `json:"approvals"`
	Inspections Inspections `json:"inspections"`
	Backups     Backups     `json:"backups"`
	// Availability is per system with an outage in the month, by system.
	Availability []Uptime `json:"availability"`
}

// NoticeType is "report.monthly".
func (Report) NoticeType() string { return NoticeMonthly }

// Incidents is the monthly incident analysis (W 8.5 d) in short.
type Incidents struct {
	Total       int           `json:"total"`
	ByLevel     [5]int        `json:"by_level"` // index 1..4
	MTTA        time.Duration `json:"mtta"`
	MTTR        time.Duration `json:"mttr"`
	Escalations int           `json:"escalations"`
	Open        int           `json:"open"`
	Repeats     int           `json:"repeats"` // problems with two or more incidents in the month
}

// Tickets is the tickets/SLA month (M 6.2) in total.
type Tickets struct {
	Opened   int `json:"opened"`
	Answered int `json:"answered"`
	InSLA    int `json:"in_sla"`
	Overdue  int `json:"overdue"`
}

// Approvals is the approvals month in total.
type Approvals struct {
	Requested int `json:"requested"`
	Done      int `json:"done"`
	Rejected  int `json:"rejected"`
	Pending   int `json:"pending"`
}

// Inspections is the month's inspection runs.
type Inspections struct {
	Runs   int `json:"runs"`
	Done   int `json:"done"`
	Missed int `json:"missed"`
	Issues int `json:"issues"`
}

// Backups is the month's backup audit in total.
type Backups struct {
	Systems    int `json:"systems"`
	Expected   int `json:"expected"`
	Failed     int `json:"failed"`
	Missing    int `json:"missing"`
	Unverified int `json:"unverified"` // systems without a restore test in the month
}

// Uptime is one system's availability over the month.
type Uptime struct {
	System  string        `json:"system"`
	Outages int           `json:"outages"`
	Down    time.Duration `json:"down"`
	// Permyriad is the availability in 1/10000 (9990 = 99.90%).
	Permyriad int `json:"permyriad"`
}

// Check is the quarterly internal check (W 6 c–e): the payload of its
// notice to the sys_admins and operators.
type Check struct {
	Quarter string     `json:"quarter"`
	Plans   []PlanLine `json:"plans"`
	Actions []Action   `json:"actions"`
}

// NoticeType is "report.quarterly_check".
func (Check) NoticeType() string { return NoticeCheck }

// PlanLine is one inspection plan over the quarter.
type PlanLine struct {
	Plan   string `json:"plan"`
	Runs   int    `json:"runs"`
	Done   int    `json:"done"`
	Missed int    `json:"missed"`
	Issues int    `json:"issues"`
}

// ActionDue is a corrective action's reminder: due today, or overdue
// (sent to the sys_admins too).
type ActionDue struct {
	Action  Action `json:"action"`
	Overdue bool   `json:"overdue"`
}

// NoticeType is "report.check_action".
func (ActionDue) NoticeType() string { return NoticeAction }
