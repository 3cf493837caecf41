package postgres

import (
	"opsbot/core/alert"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// Tx implements every store port core defines.
var _ approval.Tx = (*Tx)(nil)

var _ incident.Tx = (*Tx)(nil) // transitional, see incident.Tx

var _ incident.WriteTx = (*Tx)(nil)

var _ incident.ReadTx = (*Tx)(nil)

var _ duty.Tx = (*Tx)(nil)

var _ duty.HandoverTx = (*Tx)(nil)

var _ problem.ProposeTx = (*Tx)(nil)

var _ problem.Tx = (*Tx)(nil)

var _ alert.Tx = (*Tx)(nil)

var _ ticket.Tx = (*Tx)(nil)

var _ inspect.Tx = (*Tx)(nil)

var _ backup.Tx = (*Tx)(nil)

var _ digest.Tx = (*Tx)(nil)
