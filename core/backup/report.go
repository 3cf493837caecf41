package backup

import (
	"context"
	"errors"
	"time"

	"opsbot/core"
)

// AuditMonth is the backup audit of a month (W 8.4.4) as a report of a
// set of units: the audit made on the 1st (with its sign-off), or, before
// it is made, the month so far (Draft); either way only the systems whose
// app's owner unit is kept.
type AuditMonth struct {
	Audit
	Draft bool
}

// AuditMonth returns month's (YYYY-MM) audit keeping the systems keep
// keeps, given the owner unit of the system's app ("" for a system that
// is no registered app); keep nil keeps every system. Callers pass an
// org.View's Keeps (a member's view keeps none: systems have no people).
func (s *Service) AuditMonth(ctx context.Context, month string, keep func(unit string, people ...string) bool) (AuditMonth, error) {
	if _, err := time.ParseInLocation("2006-01", month, s.loc()); err != nil {
		return AuditMonth{}, core.Invalid("month", "value", month)
	}
	var out AuditMonth
	err := s.store.Read(ctx, func(tx Reader) error {
		a, err := tx.BackupAudit(ctx, month, false)
		if errors.Is(err, core.ErrNotFound) {
			a = Audit{Month: month, CreatedAt: s.clock.Now()}
			if a.Systems, err = s.MonthSummary(ctx, tx, month); err != nil {
				return err
			}
			out.Draft = true
		} else if err != nil {
			return err
		}
		systems := []SystemMonth{}
		for _, sm := range a.Systems {
			owner := ""
			if app, err := tx.App(ctx, sm.System); err == nil {
				owner = app.Owner
			} else if !errors.Is(err, core.ErrNotFound) {
				return err
			}
			if keep == nil || keep(owner) {
				systems = append(systems, sm)
			}
		}
		a.Systems = systems
		out.Audit = a
		return nil
	})
	return out, err
}
