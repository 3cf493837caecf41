package emergency

import "time"

// ReviewDue reminds the operators that a plan's annual review is due.
type ReviewDue struct {
	Plan   int64     `json:"plan"`
	System string    `json:"system"`
	Title  string    `json:"title"`
	Due    time.Time `json:"due"`
}

// NoticeType is "emergency.review_due".
func (ReviewDue) NoticeType() string { return "emergency.review_due" }

// ReviewMissed tells the sys admins a plan's annual review was missed.
type ReviewMissed struct {
	Plan   int64     `json:"plan"`
	System string    `json:"system"`
	Title  string    `json:"title"`
	Due    time.Time `json:"due"`
}

// NoticeType is "emergency.review_missed".
func (ReviewMissed) NoticeType() string { return "emergency.review_missed" }

// DrillDue reminds a drill's participants the day before.
type DrillDue struct {
	Drill  int64  `json:"drill"`
	System string `json:"system"`
	Title  string `json:"title"`
	Day    string `json:"day"`
}

// NoticeType is "emergency.drill_due".
func (DrillDue) NoticeType() string { return "emergency.drill_due" }

// FindingNotice tells a finding's owner of it (stage "assigned" when the
// drill is recorded, "due" on its due date) and the sys admins when it is
// overdue (stage "overdue").
type FindingNotice struct {
	Drill int64  `json:"drill"`
	N     int    `json:"n"`
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Due   string `json:"due"`
	Stage string `json:"stage"`
}

// NoticeType is "emergency.finding".
func (FindingNotice) NoticeType() string { return "emergency.finding" }

// WarningIssuedNotice goes along the report path when a warning is issued.
type WarningIssuedNotice struct {
	Warning int64  `json:"warning"`
	Level   int    `json:"level"`
	Text    string `json:"text"`
	By      string `json:"by"`
}

// NoticeType is "emergency.warning_issued".
func (WarningIssuedNotice) NoticeType() string { return "emergency.warning_issued" }

// WarningLiftedNotice goes along the same path when it is lifted.
type WarningLiftedNotice struct {
	Warning int64  `json:"warning"`
	Level   int    `json:"level"`
	Text    string `json:"text"`
	Lift    string `json:"lift,omitempty"`
	By      string `json:"by"`
}

// NoticeType is "emergency.warning_lifted".
func (WarningLiftedNotice) NoticeType() string { return "emergency.warning_lifted" }

// IncidentReport is the structured report to superiors of a level I/II
// incident (W 9.3 f): at declaration, at every change and at closure.
type IncidentReport struct {
	Incident int64     `json:"incident"`
	Title    string    `json:"title"`
	Level    int       `json:"level"`
	State    string    `json:"state"`
	Action   string    `json:"action"` // the audited action, e.g. "incident.ack"
	System   string    `json:"system,omitempty"`
	Unit     string    `json:"unit,omitempty"`
	Owner    string    `json:"owner,omitempty"`
	Summary  string    `json:"summary,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Declared time.Time `json:"declared"`
}

// NoticeType is "emergency.incident_report".
func (IncidentReport) NoticeType() string { return "emergency.incident_report" }
