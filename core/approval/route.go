package approval

import (
	"context"
	"errors"
	"slices"

	"opsbot/core"
	"opsbot/core/org"
)

// target is where a step's deciders come from.
type target struct {
	unit *org.Unit // scope unit (owner, city, target)
	app  string    // scope app (access party)
	user string    // scope user (the requester)
}

func (s *Service) stepTarget(ctx context.Context, tx Directory, r Request, st Step) (target, error) {
	switch st.Scope {
	case "app":
		return target{app: r.App}, nil
	case "requester":
		return target{user: r.Requester}, nil
	case "city":
		root, err := tx.Root(ctx)
		return target{unit: &root}, err
	default: // owner, target: the request's unit
		u, err := tx.Unit(ctx, r.Unit)
		return target{unit: &u}, err
	}
}

// holders returns the active users holding one of roles over t, sorted.
func holders(ctx context.Context, tx Directory, roles []org.Role, t target) ([]string, error) {
	if t.user != "" {
		return []string{t.user}, nil
	}
	var out []string
	for _, role := range roles {
		grants, err := tx.Holders(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			ok := false
			if t.app != "" {
				ok = role == org.RoleAccessParty && g.Scope == t.app
			} else if role != org.RoleAccessParty {
				scope, err := tx.Unit(ctx, g.Scope)
				if err != nil && !errors.Is(err, core.ErrNotFound) {
					return nil, err
				}
				ok = err == nil && scope.Contains(*t.unit)
			}
			if ok && !slices.Contains(out, g.UserID) {
				out = append(out, g.UserID)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// deciders returns who holds the step's roles in scope (cands) and who of
// them may act now (ready). When nobody holding the roles may act (a unit
// without an admin, or its only admin is the requester) the step falls
// back to its fallback roles.
func (s *Service) deciders(ctx context.Context, tx Directory, r Request, st Step, decisions []Decision, verb string) (cands, ready []string, err error) {
	t, err := s.stepTarget(ctx, tx, r, st)
	if err != nil {
		return nil, nil, err
	}
	if cands, err = holders(ctx, tx, st.Roles, t); err != nil {
		return nil, nil, err
	}
	ready = eligible(r, st, decisions, cands, verb)
	if len(ready) > 0 || len(st.FallbackRoles) == 0 {
		return cands, ready, nil
	}
	if cands, err = holders(ctx, tx, st.FallbackRoles, t); err != nil {
		return nil, nil, err
	}
	return cands, eligible(r, st, decisions, cands, verb), nil
}

// isApproval reports whether a verb approves or rejects.
func isApproval(verb string) bool { return verb == VerbApprove || verb == VerbReject }

// refusal says why actor may not act on the current step, or "" when they may.
func refusal(r Request, st Step, decisions []Decision, actor, verb string, candidates []string) (code string) {
	if isApproval(verb) && actor == r.Requester {
		return "self_approval"
	}
	if st.Name == "check" {
		if code := checkRefusal(r, decisions, actor); code != "" {
			return code
		}
	}
	if !slices.Contains(candidates, actor) {
		return "not_eligible"
	}
	for _, d := range decisions {
		if d.Actor != actor {
			continue
		}
		switch {
		case d.Step == r.Step && isApproval(d.Verb):
			return "same_person_twice"
		case d.Step < r.Step && isApproval(d.Verb) && isApproval(verb):
			return "approver_again"
		}
	}
	switch st.Name {
	case "complete":
		if impl := implementer(r, decisions); impl != "" && impl != actor {
			return "not_implementer"
		}
	case "review":
		if impl := implementer(r, decisions); impl == actor {
			return "reviewer_is_implementer"
		}
	}
	return ""
}

// checkRefusal says why actor may not check an operation's result (W 8.2
// c: the second person is neither its requester, an approver nor the
// executor), or "" when they may.
func checkRefusal(r Request, decisions []Decision, actor string) string {
	if actor == r.Requester {
		return "checker_is_requester"
	}
	executor := ""
	for _, d := range decisions {
		switch {
		case d.Actor == actor && d.Verb == VerbApprove:
			return "checker_is_approver"
		case d.Verb == VerbDone:
			executor = d.Actor
		}
	}
	if executor == actor {
		return "checker_is_executor"
	}
	return ""
}

// implementer is whoever started a change.
func implementer(r Request, decisions []Decision) string {
	for _, d := range decisions {
		if d.Verb == VerbStart {
			return d.Actor
		}
	}
	return ""
}

// eligible filters candidates down to those who may act now.
func eligible(r Request, st Step, decisions []Decision, candidates []string, verb string) []string {
	var out []string
	for _, c := range candidates {
		if refusal(r, st, decisions, c, verb, candidates) == "" {
			out = append(out, c)
		}
	}
	return out
}
