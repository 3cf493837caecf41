package digest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NoticeDigest is the daily digest's notice type.
const NoticeDigest = "digest.daily"

// Digest is one manager's digest of one or more days: what /digest shows
// and the payload of the daily digest notice (rendered with its chart).
type Digest struct {
	First       time.Time     `json:"first"` // first day covered, midnight in the calendar's zone
	Last        time.Time     `json:"last"`  // last day covered (First on a one-day digest)
	Scope       Scope         `json:"scope"`
	ScopeNames  []string      `json:"scope_names"`
	Opened      int           `json:"opened"`
	Closed      int           `json:"closed"`
	OpenByLevel [5]int        `json:"open_by_level"` // index 1..4
	MTTA        time.Duration `json:"mtta"`
	MTTR        time.Duration `json:"mttr"`
	Acked       int           `json:"acked"`    // incidents the MTTA averages over
	Resolved    int           `json:"resolved"` // incidents the MTTR averages over
	Escalations int           `json:"escalations"`
	// TicketsDueToday and TicketsOverdue are open tickets as of now.
	TicketsDueToday   int      `json:"tickets_due"`
	TicketsOverdue    int      `json:"tickets_overdue"`
	ApprovalsWaiting  int      `json:"approvals_waiting"` // pending for more than a day
	InspectionsDone   int      `json:"inspections_done"`
	InspectionsMissed int      `json:"inspections_missed"`
	InspectionsOpen   int      `json:"inspections_open"`
	BackupsOK         int      `json:"backups_ok"`
	BackupsFailed     int      `json:"backups_failed"`
	BackupsMissing    int      `json:"backups_missing"`
	OnDuty            []string `json:"on_duty"` // "rotation: primary / secondary"
	Series            []Point  `json:"series"`  // the 14 days up to Last
}

// NoticeType is "digest.daily".
func (Digest) NoticeType() string { return NoticeDigest }

// DecodeLegacy reads a digest the previous release queued as a string
// map: counts as numbers, durations as Go durations, names joined by "、",
// duty lines by newlines, the series as "day:incidents:sla,…", and the
// day as "YYYY-MM-DD" or "first ~ last".
func (d *Digest) DecodeLegacy(m map[string]string) error {
	first, last, _ := strings.Cut(m["day"], " ~ ")
	var err error
	if d.First, err = time.Parse(dayLayout, first); err != nil {
		return fmt.Errorf("digest day %q: %w", m["day"], err)
	}
	d.Last = d.First
	if last != "" {
		if d.Last, err = time.Parse(dayLayout, last); err != nil {
			return fmt.Errorf("digest day %q: %w", m["day"], err)
		}
	}
	d.Scope = Scope{Kind: m["scope"]}
	d.ScopeNames = split(m["scope_names"], "、")
	d.OnDuty = split(m["on_duty"], "\n")
	for key, into := range map[string]*int{
		"opened": &d.Opened, "closed": &d.Closed, "acked": &d.Acked, "resolved": &d.Resolved, "escalations": &d.Escalations,
		"open_l1": &d.OpenByLevel[1], "open_l2": &d.OpenByLevel[2], "open_l3": &d.OpenByLevel[3], "open_l4": &d.OpenByLevel[4],
		"tickets_due": &d.TicketsDueToday, "tickets_overdue": &d.TicketsOverdue, "approvals_waiting": &d.ApprovalsWaiting,
		"inspections_done": &d.InspectionsDone, "inspections_missed": &d.InspectionsMissed, "inspections_open": &d.InspectionsOpen,
		"backups_ok": &d.BackupsOK, "backups_failed": &d.BackupsFailed, "backups_missing": &d.BackupsMissing,
	} {
		if m[key] == "" {
			continue
		}
		if *into, err = strconv.Atoi(m[key]); err != nil {
			return fmt.Errorf("digest %s %q: %w", key, m[key], err)
		}
	}
	for key, into := range map[string]*time.Duration{"mtta": &d.MTTA, "mttr": &d.MTTR} {
		if m[key] == "" {
			continue
		}
		if *into, err = time.ParseDuration(m[key]); err != nil {
			return fmt.Errorf("digest %s %q: %w", key, m[key], err)
		}
	}
	for _, part := range split(m["series"], ",") {
		f := strings.Split(part, ":")
		if len(f) != 3 {
			continue
		}
		day, err0 := time.Parse(dayLayout, f[0])
		n, err1 := strconv.Atoi(f[1])
		p, err2 := strconv.Atoi(f[2])
		if err0 != nil || err1 != nil || err2 != nil {
			continue
		}
		d.Series = append(d.Series, Point{Day: day, Incidents: n, SLA: p})
	}
	return nil
}

func split(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}
