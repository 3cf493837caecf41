package approval

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Notice types this package writes. Types starting with "update." address
// the cards of a ref instead of a recipient.
const (
	NoticeCard          = "approval.card"     // a card with buttons to a decider or channel
	NoticeProgress      = "approval.progress" // to the requester: a step was decided
	NoticeRemind        = "approval.remind"   // to a decider: still waiting
	NoticeAnnounce      = "approval.announce" // prefix of the announcements below
	NoticeAppOnline     = NoticeAnnounce + ".app_online"
	NoticeAppOffline    = NoticeAnnounce + ".app_offline"
	NoticeReleaseNotice = NoticeAnnounce + ".release_notice"
	NoticeReleaseAdmin  = NoticeAnnounce + ".release_admin"
	NoticeWindowMiss    = "change.window_missed"
	NoticeUpdate        = "update.approval" // replaces the cards of a step
)

// Card is a request at one of its steps, as a card shows it to whoever may
// act on that step (and to the approvals channel).
type Card struct {
	ID            int64             `json:"id"`
	Kind          Kind              `json:"kind"`
	Title         string            `json:"title"`
	Requester     string            `json:"requester"`
	RequesterName string            `json:"requester_name"`
	Step          int               `json:"step"`
	Steps         int               `json:"steps"`
	StepName      string            `json:"step_name"`
	Verbs         []string          `json:"verbs"` // the step's verbs: the card's buttons
	App           string            `json:"app,omitempty"`
	Unit          string            `json:"unit,omitempty"`
	State         State             `json:"state"`
	Count         int               `json:"count"`       // approvals the step needs
	ApprovedBy    []string          `json:"approved_by"` // who approved the step so far
	Payload       map[string]string `json:"payload,omitempty"`
}

// NoticeType names the notice.
func (Card) NoticeType() string { return NoticeCard }

// DecodeLegacy reads the string map of the previous release, where the
// request's payload was flattened into "p."-prefixed keys.
func (c *Card) DecodeLegacy(d map[string]string) error {
	var err error
	num := func(k string) int64 {
		if d[k] == "" || err != nil {
			return 0
		}
		var n int64
		n, err = strconv.ParseInt(d[k], 10, 64)
		if err != nil {
			err = fmt.Errorf("legacy %s: %w", k, err)
		}
		return n
	}
	*c = Card{ID: num("id"), Kind: Kind(d["kind"]), Title: d["title"], Requester: d["requester"], RequesterName: d["requester_name"],
		Step: int(num("step")), Steps: int(num("steps")), StepName: d["step_name"], Verbs: list(d["verbs"]), App: d["app"],
		Unit: d["unit"], State: State(d["state"]), Count: int(num("count")), ApprovedBy: list(d["approved_by"])}
	for k, v := range d {
		if rest, ok := strings.CutPrefix(k, "p."); ok {
			if c.Payload == nil {
				c.Payload = map[string]string{}
			}
			c.Payload[rest] = v
		}
	}
	return err
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Reminder tells a decider the step still waits for them (every few
// working hours).
type Reminder struct {
	Card
	Since      time.Time `json:"since"` // when the step began
	sinceShown string
}

// NoticeType names the notice.
func (Reminder) NoticeType() string { return NoticeRemind }

// DecodeLegacy reads the previous release's map: the card's keys and
// "since", already formatted.
func (r *Reminder) DecodeLegacy(d map[string]string) error {
	r.sinceShown = d["since"]
	return r.Card.DecodeLegacy(d)
}

// SinceShown is the text a previous release's row showed for Since, if
// the notice came from one.
func (r Reminder) SinceShown() (string, bool) { return r.sinceShown, r.sinceShown != "" }

// WindowMissed tells a change's approvers its window ended before anyone
// started it.
type WindowMissed struct {
	Card
	Since      time.Time `json:"since"` // when the waiting step began
	sinceShown string
}

// NoticeType names the notice.
func (WindowMissed) NoticeType() string { return NoticeWindowMiss }

// DecodeLegacy reads the previous release's map: the card's keys and
// "since", already formatted.
func (w *WindowMissed) DecodeLegacy(d map[string]string) error {
	w.sinceShown = d["since"]
	return w.Card.DecodeLegacy(d)
}

// CardUpdate replaces the cards of a decided step (its ref is the step's
// ref): they show the outcome, or who approved so far while more
// approvals are missing.
type CardUpdate struct {
	Card
	DecidedVerb   string    `json:"decided_verb"` // a step verb, or "cancel"
	DecidedBy     string    `json:"decided_by"`
	DecidedByName string    `json:"decided_by_name"`
	DecidedAt     time.Time `json:"decided_at"`
	Note          string    `json:"note,omitempty"`
	Waiting       int       `json:"waiting,omitempty"` // approvals still missing
	decidedShown  string
}

// NoticeType names the notice.
func (CardUpdate) NoticeType() string { return NoticeUpdate }

// DecodeLegacy reads the previous release's map: the card's keys and the
// decision's, with "decided_at" already formatted.
func (u *CardUpdate) DecodeLegacy(d map[string]string) error {
	if err := u.Card.DecodeLegacy(d); err != nil {
		return err
	}
	u.DecidedVerb, u.DecidedBy, u.DecidedByName, u.Note = d["decided_verb"], d["decided_by"], d["decided_by_name"], d["note"]
	u.decidedShown = d["decided_at"]
	if d["waiting"] != "" {
		n, err := strconv.Atoi(d["waiting"])
		if err != nil {
			return fmt.Errorf("legacy waiting: %w", err)
		}
		u.Waiting = n
	}
	return nil
}

// DecidedShown is the text a previous release's row showed for DecidedAt,
// if the notice came from one.
func (u CardUpdate) DecidedShown() (string, bool) { return u.decidedShown, u.decidedShown != "" }

// Progress tells the requester a step of their request was decided.
type Progress struct {
	ID       int64  `json:"id"`
	Kind     Kind   `json:"kind"`
	Title    string `json:"title"`
	Verb     string `json:"verb"`
	By       string `json:"by"`
	ByName   string `json:"by_name"`
	Note     string `json:"note,omitempty"`
	StepName string `json:"step_name"`           // the decided step
	NextStep string `json:"next_step,omitempty"` // the step now current ("" when closed)
	State    State  `json:"state"`
}

// NoticeType names the notice.
func (Progress) NoticeType() string { return NoticeProgress }

// AppStatus is what the approvals channel hears when an app went online
// or offline.
type AppStatus struct {
	ID      int64  `json:"id"` // the request
	App     string `json:"app"`
	AppName string `json:"app_name"`
	Title   string `json:"title"`
	Note    string `json:"note,omitempty"` // the operator's note
}

// AppWentOnline announces an app went online (M 7.1.1).
type AppWentOnline struct{ AppStatus }

// NoticeType names the notice.
func (AppWentOnline) NoticeType() string { return NoticeAppOnline }

// AppWentOffline announces an app went offline and its grants were revoked
// (M 7.1.2).
type AppWentOffline struct{ AppStatus }

// NoticeType names the notice.
func (AppWentOffline) NoticeType() string { return NoticeAppOffline }

// Release is a release that passed UAT, as the operator reports it (M 7.2.2).
type Release struct {
	ID      int64  `json:"id"` // the request
	App     string `json:"app"`
	Title   string `json:"title"`
	Version string `json:"version"`
	Notes   string `json:"notes"`
	ByName  string `json:"by_name"`        // the operator
	Note    string `json:"note,omitempty"` // the operator's note
}

// ReleaseNotice is the public release notice in the approvals channel.
type ReleaseNotice struct{ Release }

// NoticeType names the notice.
func (ReleaseNotice) NoticeType() string { return NoticeReleaseNotice }

// ReleaseAdmin tells each city admin a release passed UAT.
type ReleaseAdmin struct{ Release }

// NoticeType names the notice.
func (ReleaseAdmin) NoticeType() string { return NoticeReleaseAdmin }

// NoticeAppNotice is the type of an approved public notice about an app.
const NoticeAppNotice = NoticeAnnounce + ".app_notice"

// AppNotice is a public notice about an app its owner unit's admin
// approved (M 7.3.3 b), sent to the app's users and the approvals channel.
type AppNotice struct {
	ID        int64  `json:"id"` // the request
	App       string `json:"app"`
	AppName   string `json:"app_name"`
	Text      string `json:"text"`
	Requester string `json:"requester"`
	ByName    string `json:"by_name"` // the approver
}

// NoticeType names the notice.
func (AppNotice) NoticeType() string { return NoticeAppNotice }
