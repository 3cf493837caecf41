package postgres

import "opsbot/core/approval"

// Tx implements every store port core defines.
var _ approval.Tx = (*Tx)(nil)
