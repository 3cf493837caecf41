package postgres

import (
	"context"

	"opsbot/core/org"
)

// The org look-ups routines (backups, inspections) list in their ports;
// the rules stay in core/org.

// HoldersOf returns the active users holding role on any scope, each once.
func (t *Tx) HoldersOf(ctx context.Context, role org.Role) ([]string, error) {
	return org.HoldersOf(ctx, t, role)
}

// AdminsOf returns the admins nearest to a user's unit.
func (t *Tx) AdminsOf(ctx context.Context, userID string) ([]string, error) {
	return org.AdminsOf(ctx, t, userID)
}
