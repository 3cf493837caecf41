package backup

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/routine"
)

// Policy is what a backup plan records of its backup strategy (W 8.4.1):
// where backups are kept (存放位置), how long (保留期限), how they are
// taken (备份方式) and who is responsible (责任人, an org user). A plan
// missing any of them is a finding of the monthly backup audit.
type Policy struct {
	Location  string `json:"location,omitempty"`
	Retention string `json:"retention,omitempty"` // e.g. 30d, 12w, 6m, 1y, 6个月
	Method    string `json:"method,omitempty"`    // Methods joined by "+", e.g. full+incremental
	Owner     string `json:"owner,omitempty"`
}

// Methods are the backup methods a policy may name.
var Methods = []string{"full", "incremental", "differential", "snapshot", "log"}

// PolicyFields are the policy's fields, in the order findings list them.
var PolicyFields = []string{"location", "retention", "method", "owner"}

// retentionRE is a retention period: a number and a unit.
var retentionRE = regexp.MustCompile(`^[1-9][0-9]{0,3}(d|w|m|y|天|周|个月|月|年)$`)

// Missing returns the names of the policy's empty fields, in PolicyFields order.
func (p Policy) Missing() []string {
	var out []string
	for i, v := range []string{p.Location, p.Retention, p.Method, p.Owner} {
		if v == "" {
			out = append(out, PolicyFields[i])
		}
	}
	return out
}

// merge returns p with the non-empty fields of change.
func (p Policy) merge(change Policy) Policy {
	for _, f := range []struct {
		to *string
		v  string
	}{
		{&p.Location, change.Location}, {&p.Retention, change.Retention}, {&p.Method, change.Method}, {&p.Owner, change.Owner},
	} {
		if f.v != "" {
			*f.to = f.v
		}
	}
	return p
}

// clean trims the policy's fields and lower-cases the method.
func (p Policy) clean() Policy {
	return Policy{Location: strings.TrimSpace(p.Location), Retention: strings.TrimSpace(p.Retention),
		Method: strings.ToLower(strings.TrimSpace(p.Method)), Owner: strings.TrimSpace(p.Owner)}
}

// userFinder finds org users (a policy's owner).
type userFinder interface {
	User(ctx context.Context, id string) (org.User, error)
}

// checkPolicy refuses a policy with a value that is not valid: a location
// too long, a method or retention not understood, an owner who is not an
// active org user. Empty fields pass (they are the audit's findings).
func checkPolicy(ctx context.Context, tx userFinder, p Policy) error {
	if p.Location != "" {
		if err := core.CheckName("location", p.Location, core.MaxName); err != nil {
			return err
		}
	}
	if p.Method != "" {
		for _, m := range strings.Split(p.Method, "+") {
			if !slices.Contains(Methods, m) {
				return core.Invalid("backup_method", "value", p.Method, "methods", strings.Join(Methods, ", "))
			}
		}
	}
	if p.Retention != "" && !retentionRE.MatchString(p.Retention) {
		return core.Invalid("backup_retention", "value", p.Retention)
	}
	if p.Owner != "" {
		u, err := tx.User(ctx, p.Owner)
		if errors.Is(err, core.ErrNotFound) || (err == nil && (u.Removed || u.Service)) {
			return core.NotFound("backup_owner_not_found", "id", p.Owner)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// SetPolicy changes the given (non-empty) policy fields of system's plan
// (W 8.4.1); the change is audited before → after.
func (s *Service) SetPolicy(ctx context.Context, actor core.Actor, system string, change Policy) (Plan, error) {
	change = change.clean()
	if change == (Policy{}) {
		return Plan{}, core.Invalid("backup_policy_empty")
	}
	var p Plan
	err := s.store.InPlanTx(ctx, func(tx PlanTx) error {
		if err := routine.RequirePlatform(ctx, tx, actor.UserID, "backup_manage"); err != nil {
			return err
		}
		if err := checkPolicy(ctx, tx, change); err != nil {
			return err
		}
		var err error
		if p, err = activePlan(ctx, tx, system); err != nil {
			return err
		}
		before := p
		p.Policy = p.Policy.merge(change)
		if err := tx.UpdateBackupPlan(ctx, p); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "backup.plan.policy", p.Ref(), before, p)
	})
	return p, err
}
