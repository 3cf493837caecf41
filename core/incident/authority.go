package incident

import (
	"context"
	"slices"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/paging"
)

// Authority over an incident (W 8.5 a). Acknowledging, assigning,
// regrading, mitigating, resolving and closing it (the review) are for
// its owner, the people on duty for it (primary and secondary of its
// rotation), operators, sys admins and the unit or district admins whose
// scope covers its unit; an incident with no unit has no unit or district
// admin. Declaring, adding updates and escalating by hand stay open to
// every member: they only add information or people. The system actor
// (timers, Alertmanager) is not checked.

// authorities returns who has authority over i, the owner first.
func (s *Service) authorities(ctx context.Context, tx WriteTx, i Incident) ([]string, error) {
	out := paging.Add(nil, i.Owner)
	od, _ := s.onDuty(ctx, tx, i)
	out = paging.Add(out, od.Primary, od.Secondary)
	roles := []string{string(org.RoleOperator), string(org.RoleSysAdmin)}
	if i.Unit != "" {
		roles = append(roles, string(org.RoleUnitAdmin), string(org.RoleDistrictAdmin))
	}
	var holders []string
	var err error
	if holders, err = paging.Holders(ctx, tx, nil, i.Unit, roles...); err != nil {
		return nil, err
	}
	return paging.Add(out, holders...), nil
}

// authorize refuses an actor with no authority over i
// (incident_not_authorized, naming the owner, the people on duty and the
// unit whose admins may).
func (s *Service) authorize(ctx context.Context, tx WriteTx, actor core.Actor, i Incident) error {
	if actor.UserID == core.SystemUser {
		return nil
	}
	who, err := s.authorities(ctx, tx, i)
	if err != nil {
		return err
	}
	if slices.Contains(who, actor.UserID) {
		return nil
	}
	od, _ := s.onDuty(ctx, tx, i)
	onDuty := paging.Add(nil, od.Primary, od.Secondary)
	return core.Forbidden("incident_not_authorized", "id", itoa(i.ID), "user", actor.UserID,
		"owner", dash(i.Owner), "on_duty", dash(strings.Join(onDuty, "、")), "unit", dash(i.Unit))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
