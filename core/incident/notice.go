package incident

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LegacyTime is how version-0 rows wrote times: wall clock in the zone of
// the working calendar (the bot's zone).
const LegacyTime = "2006-01-02 15:04"

// WallTime parses a version-0 row's time; "" is the zero time. The result
// is the wall clock read as UTC: a payload decoded from it sets Wall so
// the renderer shows it as it is.
func WallTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(LegacyTime, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("legacy time %q: %w", s, err)
	}
	return t, nil
}

// Brief is what every incident notice shows of its incident.
type Brief struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Level      int    `json:"level"`
	State      string `json:"state"`
	System     string `json:"system,omitempty"`
	Unit       string `json:"unit,omitempty"`
	Owner      string `json:"owner,omitempty"`
	DeclaredBy string `json:"declared_by,omitempty"`
	Summary    string `json:"summary,omitempty"`
	Source     string `json:"source,omitempty"` // Incident.Source: who declared it when DeclaredBy is the system
}

// BriefOf is the brief of i.
func BriefOf(i Incident) Brief {
	return Brief{ID: i.ID, Title: i.Title, Level: i.Level, State: i.State, System: i.System, Unit: i.Unit, Owner: i.Owner,
		DeclaredBy: i.DeclaredBy, Summary: i.Summary, Source: i.Source}
}

// Incident rebuilds the incident the brief shows (for its state's rules).
func (b Brief) Incident() Incident {
	return Incident{ID: b.ID, Title: b.Title, Level: b.Level, State: b.State, System: b.System, Unit: b.Unit, Owner: b.Owner,
		DeclaredBy: b.DeclaredBy, Summary: b.Summary, Source: b.Source}
}

// LegacyBrief reads the incident of a version-0 row.
func LegacyBrief(d map[string]string) Brief {
	id, _ := strconv.ParseInt(d["id"], 10, 64)
	level, _ := strconv.Atoi(d["level"])
	return Brief{ID: id, Title: d["title"], Level: level, State: d["state"], System: d["system"], Unit: d["unit"],
		Owner: d["owner"], DeclaredBy: d["declared_by"], Summary: d["summary"], Source: d["source"]}
}

// AlertState is what an alert incident's card adds: its Alertmanager
// group's counts and labels, and the first few of its alerts (firing ones
// while any fire) with More the number not shown.
type AlertState struct {
	Firing      int               `json:"firing"`
	Resolved    int               `json:"resolved"`
	Labels      map[string]string `json:"labels,omitempty"`
	Joint       bool              `json:"joint,omitempty"` // the access party joined (the non-200 rule)
	ExternalURL string            `json:"external_url,omitempty"`
	Alerts      []AlertItem       `json:"alerts,omitempty"`
	More        int               `json:"more,omitempty"`
}

// AlertItem is one alert as a card shows it: its alertname label, its
// description annotation, when it started, the link to the rule that
// fired it (generatorURL) and its runbook annotation.
type AlertItem struct {
	Name         string    `json:"name,omitempty"`
	Description  string    `json:"description,omitempty"`
	StartsAt     time.Time `json:"starts_at"`
	GeneratorURL string    `json:"generator_url,omitempty"`
	Runbook      string    `json:"runbook,omitempty"`
}

// SortedLabels lists the labels as "k=v", sorted by key.
func (a AlertState) SortedLabels() []string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + a.Labels[k]
	}
	return out
}

// CardData is an incident card: the incident, who is on duty for a level
// 1–2 incident still open (24-hour duty), and an alert incident's group.
type CardData struct {
	Brief
	OnDuty     []string `json:"on_duty,omitempty"` // primary, secondary
	NextDuty   string   `json:"next_duty,omitempty"`
	Escalated  bool     `json:"escalated,omitempty"`
	AssignedBy string   `json:"assigned_by,omitempty"`
	// NoUnit lists who an escalation step paged in place of the unit or
	// district admins because the incident has no unit: the operators'
	// admins (or the sys admins).
	NoUnit []string    `json:"no_unit,omitempty"`
	Alert  *AlertState `json:"alert,omitempty"`
}

// DecodeLegacy reads a version-0 row.
func (c *CardData) DecodeLegacy(d map[string]string) error {
	*c = CardData{Brief: LegacyBrief(d), NextDuty: d["next_duty"], Escalated: d["escalated"] == "1", AssignedBy: d["assigned_by"]}
	if d["on_duty"] != "" {
		c.OnDuty = strings.Split(d["on_duty"], "、")
	}
	if d["source"] == "alertmanager" {
		a := &AlertState{Joint: d["joint"] == "1", ExternalURL: d["external_url"], Labels: map[string]string{}}
		a.Firing, _ = strconv.Atoi(d["firing"])
		a.Resolved, _ = strconv.Atoi(d["resolved"])
		for _, kv := range strings.Split(d["group_labels"], ", ") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				a.Labels[k] = v
			}
		}
		c.Alert = a
	}
	return nil
}

// Card is an incident card sent to the people paged (on declaration,
// escalation, assignment) and to the incident's channel, with the buttons
// its state allows.
type Card struct{ CardData }

// NoticeType is "incident.card".
func (Card) NoticeType() string { return "incident.card" }

// CardUpdate replaces every card of an incident with its current state.
type CardUpdate struct{ CardData }

// NoticeType is "update.incident".
func (CardUpdate) NoticeType() string { return "update.incident" }

// EventNotice tells an incident's stakeholders and channel what happened:
// Event is the timeline kind (update, resolve, level, escalate, ack,
// assign, mitigate, review, silence, auto_resolve) and Body its text.
type EventNotice struct {
	Brief
	Event  string `json:"event"`
	Body   string `json:"body,omitempty"`
	By     string `json:"by"`
	ByName string `json:"by_name"`
}

// NoticeType is "incident.event".
func (EventNotice) NoticeType() string { return "incident.event" }

// Report is a progress report's reminder data: when the last one came.
type Report struct {
	Brief
	LastUpdate time.Time `json:"last_update"`
	// Wall is set on a notice decoded from a version-0 row: LastUpdate is
	// the wall clock of the bot's zone, shown as it is.
	Wall bool `json:"-"`
}

// DecodeLegacy reads a version-0 row.
func (r *Report) DecodeLegacy(d map[string]string) error {
	t, err := WallTime(d["last_update"])
	*r = Report{Brief: LegacyBrief(d), LastUpdate: t, Wall: true}
	return err
}

// ProgressDue reminds an open incident's owner that a progress report is
// due (W 9.3: report continuously until recovery).
type ProgressDue struct{ Report }

// NoticeType is "incident.progress".
func (ProgressDue) NoticeType() string { return "incident.progress" }

// ReportOverdue tells the admins (and the channel) that the owner missed
// a progress report after the reminder.
type ReportOverdue struct{ Report }

// NoticeType is "incident.overdue".
func (ReportOverdue) NoticeType() string { return "incident.overdue" }

// Duty24 tells the people on duty now and next that a level 1–2 incident
// needs 24-hour duty until it closes.
type Duty24 struct {
	Brief
	OnDuty []string `json:"on_duty"` // the primary, then the people told
}

// NoticeType is "incident.duty24".
func (Duty24) NoticeType() string { return "incident.duty24" }

// ActionDue reminds a review action's owner on its due date.
type ActionDue struct {
	Brief
	Action      string    `json:"action"`
	Due         time.Time `json:"due"` // a date: shown as it is, not converted
	ActionOwner string    `json:"action_owner"`
}

// NoticeType is "incident.action_due".
func (ActionDue) NoticeType() string { return "incident.action_due" }

// DecodeLegacy reads a version-0 row (due as "2006-01-02").
func (a *ActionDue) DecodeLegacy(d map[string]string) error {
	due, err := time.Parse("2006-01-02", d["due"])
	*a = ActionDue{Brief: LegacyBrief(d), Action: d["action"], Due: due, ActionOwner: d["action_owner"]}
	if err != nil {
		return fmt.Errorf("action_due notice due %q: %w", d["due"], err)
	}
	return nil
}

// ActionOverdue tells the admins covering a review action's owner that
// the action is still open after its due date.
type ActionOverdue struct {
	Brief
	Action      string    `json:"action"`
	Due         time.Time `json:"due"` // a date: shown as it is, not converted
	ActionOwner string    `json:"action_owner"`
}

// NoticeType is "incident.action_overdue".
func (ActionOverdue) NoticeType() string { return "incident.action_overdue" }
