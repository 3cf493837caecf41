package inspect

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core/routine"
)

// Item states on a checklist.
const (
	ItemOK    = "ok"
	ItemIssue = "issue"
)

// Checklist is a run as its cards show it.
type Checklist struct {
	ID        int64     `json:"id"`
	Plan      string    `json:"plan"`
	Items     []string  `json:"items"`
	States    []string  `json:"states"` // per item: ItemOK, ItemIssue or "" (not reported)
	State     string    `json:"state"`  // StatePending | StateDone
	Assignees []string  `json:"assignees"`
	Due       time.Time `json:"due"`
	Issues    int       `json:"issues"`
	Missed    bool      `json:"missed"`
	dueText   string
}

// ChecklistOf is the checklist of a run.
func ChecklistOf(r Run) Checklist {
	states := make([]string, len(r.Items))
	for i := range r.Items {
		if res, ok := r.Results[i+1]; ok {
			states[i] = ItemIssue
			if res.OK {
				states[i] = ItemOK
			}
		}
	}
	return Checklist{ID: r.ID, Plan: r.Plan, Items: r.Items, States: states, State: r.State, Assignees: r.Assignees,
		Due: r.DueAt, Issues: r.Issues(), Missed: r.Missed}
}

// DueText is the due time as a notice queued by the previous release
// showed it ("" for notices of this release: format Due).
func (c Checklist) DueText() string { return c.dueText }

// DecodeLegacy reads the previous release's map: items and states one
// per line, assignees comma-separated, due as text.
func (c *Checklist) DecodeLegacy(d map[string]string) error {
	id, err := strconv.ParseInt(d["id"], 10, 64)
	if err != nil {
		return fmt.Errorf("inspect card id: %w", err)
	}
	c.ID, c.Plan, c.State = id, d["plan"], d["state"]
	c.Items = strings.Split(d["items"], "\n")
	c.States = strings.Split(d["states"], "\n")
	if d["assignees"] != "" {
		c.Assignees = strings.Split(d["assignees"], ",")
	}
	c.Due, c.dueText = routine.LegacyTime(d["due"])
	c.Issues, _ = strconv.Atoi(d["issues"])
	c.Missed = d["missed"] == "true"
	return nil
}

// Card sends a run's checklist to its assignees (and the channel), with
// OK / Issue buttons per item.
type Card struct{ Checklist }

// NoticeType is "inspect.card".
func (Card) NoticeType() string { return "inspect.card" }

// Remind tells the assignees that a run is still not reported after the
// grace time.
type Remind struct{ Checklist }

// NoticeType is "inspect.remind".
func (Remind) NoticeType() string { return "inspect.remind" }

// Escalated tells the assignees' admins that a run was missed.
type Escalated struct{ Checklist }

// NoticeType is "inspect.escalated".
func (Escalated) NoticeType() string { return "inspect.escalated" }

// Updated replaces the checklist cards of a run after items were marked.
type Updated struct{ Checklist }

// NoticeType is "update.inspect".
func (Updated) NoticeType() string { return "update.inspect" }

// Issue tells the other assignees that an item marked Issue opened an
// incident.
type Issue struct {
	Checklist
	Incident int64  `json:"incident"`
	By       string `json:"by"`
	Note     string `json:"note"`
}

// NoticeType is "inspect.issue".
func (Issue) NoticeType() string { return "inspect.issue" }

// DecodeLegacy reads the previous release's map: the checklist plus the
// incident, who marked it and the note.
func (i *Issue) DecodeLegacy(d map[string]string) error {
	if err := i.Checklist.DecodeLegacy(d); err != nil {
		return err
	}
	inc, err := strconv.ParseInt(d["incident"], 10, 64)
	if err != nil {
		return fmt.Errorf("inspect issue incident: %w", err)
	}
	i.Incident, i.By, i.Note = inc, d["by"], d["note"]
	return nil
}
