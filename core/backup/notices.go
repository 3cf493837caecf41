package backup

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsbot/core/routine"
)

// Overdue is a day's backup not reported by its deadline.
type Overdue struct {
	System  string    `json:"system"`
	Day     string    `json:"day"` // YYYY-MM-DD
	Due     time.Time `json:"due"` // the report deadline
	Full    bool      `json:"full"`
	dueText string
}

// DueText is the deadline as a notice queued by the previous release
// showed it ("" for notices of this release: format Due).
func (o Overdue) DueText() string { return o.dueText }

// DecodeLegacy reads the previous release's map, whose due was text.
func (o *Overdue) DecodeLegacy(d map[string]string) error {
	o.System, o.Day, o.Full = d["system"], d["day"], d["full"] == "true"
	o.Due, o.dueText = routine.LegacyTime(d["due"])
	return nil
}

// Missing tells the operators that no report came by the deadline.
type Missing struct{ Overdue }

// NoticeType is "backup.missing".
func (Missing) NoticeType() string { return "backup.missing" }

// Escalated tells the lead and the operators' admins that a day's backup
// is still unreported after the grace: it counts missed.
type Escalated struct{ Overdue }

// NoticeType is "backup.escalated".
func (Escalated) NoticeType() string { return "backup.escalated" }

// Failed tells the operators that a backup failed: a fault report and an
// incident are open, and the re-run is their task.
type Failed struct {
	System   string `json:"system"`
	Day      string `json:"day"`
	Kind     string `json:"kind"` // full | incremental
	Note     string `json:"note"`
	By       string `json:"by"`
	Report   int64  `json:"report"`
	Fault    int64  `json:"fault"`
	Incident int64  `json:"incident"`
}

// NoticeType is "backup.fault".
func (Failed) NoticeType() string { return "backup.fault" }

// NotFull tells the operators that the backup reported on the plan's
// full-backup day was incremental: accepted, but the month's full backup
// counts as missing until a full one is reported for that day (W 8.4.4).
type NotFull struct {
	System string `json:"system"`
	Day    string `json:"day"`
	Report int64  `json:"report"`
	By     string `json:"by"`
}

// NoticeType is "backup.not_full".
func (NotFull) NoticeType() string { return "backup.not_full" }

// Recovered tells the fault's assignees and the operators that a good
// report closed the fault.
type Recovered struct {
	System   string `json:"system"`
	Fault    int64  `json:"fault"`
	Incident int64  `json:"incident"`
	By       string `json:"by"`
}

// NoticeType is "backup.recovered".
func (Recovered) NoticeType() string { return "backup.recovered" }

// RestoreOverdue is a month's restore test of a system not recorded yet.
type RestoreOverdue struct {
	System  string    `json:"system"`
	Month   string    `json:"month"` // YYYY-MM
	Due     time.Time `json:"due"`
	dueText string
}

// DueText is the deadline as a notice queued by the previous release
// showed it ("" for notices of this release: format Due).
func (o RestoreOverdue) DueText() string { return o.dueText }

// DecodeLegacy reads the previous release's map, whose due was text.
func (o *RestoreOverdue) DecodeLegacy(d map[string]string) error {
	o.System, o.Month = d["system"], d["month"]
	o.Due, o.dueText = routine.LegacyTime(d["due"])
	return nil
}

// RestoreDue reminds the operators that the month's restore test is due.
type RestoreDue struct{ RestoreOverdue }

// NoticeType is "backup.verify_due".
func (RestoreDue) NoticeType() string { return "backup.verify_due" }

// RestoreMissed tells the lead and the operators that the month's
// restore test was not recorded by its deadline.
type RestoreMissed struct{ RestoreOverdue }

// NoticeType is "backup.verify_missed".
func (RestoreMissed) NoticeType() string { return "backup.verify_missed" }

// AuditSheet is the monthly audit as its card shows it.
type AuditSheet struct {
	Month    string        `json:"month"`
	Systems  []SystemMonth `json:"systems"`
	SignedBy string        `json:"signed_by,omitempty"`
	SignedAt *time.Time    `json:"signed_at,omitempty"`
}

// SheetOf is the card of an audit.
func SheetOf(a Audit) AuditSheet {
	return AuditSheet{Month: a.Month, Systems: a.Systems, SignedBy: a.SignedBy, SignedAt: a.SignedAt}
}

// Ref is the audit's entity reference.
func (s AuditSheet) Ref() string { return "backup-audit:" + s.Month }

// DecodeLegacy reads the previous release's map: systems one per line,
// "system|expected|reported|failed|missing|full|verified".
func (s *AuditSheet) DecodeLegacy(d map[string]string) error {
	s.Month, s.SignedBy = d["month"], d["signed_by"]
	if v := d["signed_at"]; v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("backup audit signed_at: %w", err)
		}
		s.SignedAt = &t
	}
	for _, line := range strings.Split(d["systems"], "\n") {
		f := strings.Split(line, "|")
		if len(f) != 7 {
			continue
		}
		var n [5]int
		for i := range n {
			v, err := strconv.Atoi(f[i+1])
			if err != nil {
				return fmt.Errorf("backup audit line %q: %w", line, err)
			}
			n[i] = v
		}
		s.Systems = append(s.Systems, SystemMonth{System: f[0], Expected: n[0], Reported: n[1], Failed: n[2], Missing: n[3],
			Full: n[4], Verified: f[6] == "true"})
	}
	return nil
}

// AuditCard asks the lead to sign off last month's backup record.
type AuditCard struct{ AuditSheet }

// NoticeType is "backup.audit".
func (AuditCard) NoticeType() string { return "backup.audit" }

// AuditSigned replaces the sign-off cards once the lead signed.
type AuditSigned struct{ AuditSheet }

// NoticeType is "update.backup.audit".
func (AuditSigned) NoticeType() string { return "update.backup.audit" }
