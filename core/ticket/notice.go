package ticket

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Notice types. Each is exactly the kind the release before typed notices
// wrote, so rows it queued decode into these payloads.
const (
	NoticeTicket   = "ticket.card"       // to assignees: a ticket to answer
	NoticeEvent    = "ticket.event"      // to the asker (or the assignees on a reply): every step
	NoticeRemind   = "ticket.remind"     // to assignees at 50 % / 80 %
	NoticeOverdue  = "ticket.overdue"    // to the assignees' admins and operators
	NoticeDueMoved = "ticket.recomputed" // to assignees: the deadline was recomputed
)

// Subject is the ticket a notice is about, as its notices show it.
type Subject struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // tech | business | disclosure
	Title     string    `json:"title"`
	Asker     string    `json:"asker"`
	Due       time.Time `json:"due"`
	Assignees []string  `json:"assignees"`
	// Provisional: the due time runs through a year without official
	// holiday data and may move when it is loaded.
	Provisional bool `json:"provisional,omitempty"`
	// FirstLeg is the technical leg of a ticket forwarded to an access party.
	FirstLeg *Leg `json:"first_leg,omitempty"`
	// legacyDue is the due time as the previous release wrote it: the
	// calendar zone's wall clock, "2006-01-02 15:04".
	legacyDue string
}

// subjectOf is the notice subject of a ticket.
func subjectOf(t Ticket) Subject {
	return Subject{ID: t.ID, Kind: t.Kind, Title: t.Title, Asker: t.Asker, Due: t.DueAt, Assignees: t.Assignees,
		Provisional: t.Provisional, FirstLeg: t.FirstLeg}
}

// LegacyDue returns the due time of a row queued by the previous release
// as it wrote it (the calendar zone's wall clock), or "" for typed rows.
func (s Subject) LegacyDue() string { return s.legacyDue }

// decodeLegacy reads the subject from a previous release's string map.
func (s *Subject) decodeLegacy(d map[string]string) error {
	id, err := strconv.ParseInt(d["id"], 10, 64)
	if err != nil {
		return fmt.Errorf("ticket notice id %q: %w", d["id"], err)
	}
	*s = Subject{ID: id, Kind: d["kind"], Title: d["title"], Asker: d["asker"], legacyDue: d["due"]}
	if d["assignees"] != "" {
		s.Assignees = strings.Split(d["assignees"], ",")
	}
	return nil
}

// Assigned tells an assignee there is a ticket to answer by its due time.
type Assigned struct {
	Ticket Subject `json:"ticket"`
}

// NoticeType is "ticket.card".
func (Assigned) NoticeType() string { return NoticeTicket }

// DecodeLegacy reads a row of the previous release.
func (a *Assigned) DecodeLegacy(d map[string]string) error { return a.Ticket.decodeLegacy(d) }

// Step tells the asker of a step on their ticket (answer, forward, wait,
// close), or the assignees of the asker's reply.
type Step struct {
	Ticket Subject `json:"ticket"`
	Event  string  `json:"event"` // answer | forward | wait | reply | close
	Body   string  `json:"body,omitempty"`
	By     string  `json:"by"` // user id of who took the step
}

// NoticeType is "ticket.event".
func (Step) NoticeType() string { return NoticeEvent }

// DecodeLegacy reads a row of the previous release.
func (s *Step) DecodeLegacy(d map[string]string) error {
	s.Event, s.Body, s.By = d["event"], d["body"], d["by"]
	return s.Ticket.decodeLegacy(d)
}

// Reminder tells the assignees that Mark % of the ticket's working time is used.
type Reminder struct {
	Ticket Subject `json:"ticket"`
	Mark   int     `json:"mark"` // 50 or 80
}

// NoticeType is "ticket.remind".
func (Reminder) NoticeType() string { return NoticeRemind }

// DecodeLegacy reads a row of the previous release.
func (r *Reminder) DecodeLegacy(d map[string]string) error {
	m, err := strconv.Atoi(d["mark"])
	if err != nil {
		return fmt.Errorf("ticket reminder mark %q: %w", d["mark"], err)
	}
	r.Mark = m
	return r.Ticket.decodeLegacy(d)
}

// Overdue tells the assignees' admins and the operators that a ticket
// passed its deadline unanswered.
type Overdue struct {
	Ticket Subject `json:"ticket"`
}

// NoticeType is "ticket.overdue".
func (Overdue) NoticeType() string { return NoticeOverdue }

// DecodeLegacy reads a row of the previous release.
func (o *Overdue) DecodeLegacy(d map[string]string) error { return o.Ticket.decodeLegacy(d) }

// Recomputed tells the assignees that the ticket's deadline moved when the
// working calendar changed (e.g. the official holidays of a year were loaded).
type Recomputed struct {
	Ticket Subject   `json:"ticket"`
	Before time.Time `json:"before"`
}

// NoticeType is "ticket.recomputed".
func (Recomputed) NoticeType() string { return NoticeDueMoved }
