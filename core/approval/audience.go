package approval

import (
	"context"
	"errors"
	"slices"
	"strings"

	"opsbot/core"
	"opsbot/core/org"
)

// AppUsers returns the app's users (M 7.2.2, M 7.3.3 b): every active user
// granted access to the app and every active user of every unit granted
// access (its departments included), each once, sorted. Service users are
// left out: notices to an app's users are for people.
func AppUsers(ctx context.Context, tx interface {
	Directory
	Register
}, app string) ([]string, error) {
	grants, err := tx.AppGrants(ctx, app)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(u org.User) {
		if !u.Removed && !u.Service && !slices.Contains(out, u.ID) {
			out = append(out, u.ID)
		}
	}
	for _, g := range grants {
		kind, id, _ := strings.Cut(g.Grantee, ":")
		switch kind {
		case "user":
			u, err := tx.User(ctx, id)
			if errors.Is(err, core.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			add(u)
		case "unit":
			unit, err := tx.Unit(ctx, id)
			if errors.Is(err, core.ErrNotFound) || (err == nil && unit.Removed) {
				continue
			} else if err != nil {
				return nil, err
			}
			units, err := tx.Subtree(ctx, unit.Path)
			if err != nil {
				return nil, err
			}
			codes := []string{unit.Code}
			for _, s := range units {
				codes = append(codes, s.Code)
			}
			users, err := tx.UsersIn(ctx, codes)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				add(u)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// notifyAppUsers sends p about r to each of the app's users once, leaving
// out those in skip (who heard of it another way).
func notifyAppUsers(ctx context.Context, tx Ports, r Request, p core.Payload, skip []string) error {
	users, err := AppUsers(ctx, tx, r.App)
	if err != nil {
		return err
	}
	for _, u := range users {
		if slices.Contains(skip, u) {
			continue
		}
		if err := tx.Notify(ctx, core.Notice{Ref: r.Ref(), To: core.Recipient{User: u}, Body: p}); err != nil {
			return err
		}
	}
	return nil
}
