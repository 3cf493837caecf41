package postgres

import (
	"opsbot/core/approval"
	"opsbot/core/incident"
)

// Tx implements every store port core defines.
var _ approval.Tx = (*Tx)(nil)

var _ incident.Tx = (*Tx)(nil)
