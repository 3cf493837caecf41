package postgres

import (
	"opsbot/core/alert"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
)

// Tx implements every store port core defines.
var (
	_ approval.Tx        = (*Tx)(nil)
	_ approval.Reader    = (*Tx)(nil)
	_ approval.Directory = (*Tx)(nil)
	_ approval.Register  = (*Tx)(nil)
)

var (
	_ org.Directory = (*Tx)(nil)
	_ org.Editor    = (*Tx)(nil)
	_ org.Accounts  = (*Tx)(nil)
	_ org.Seeder    = (*Tx)(nil)
	_ org.Trail     = (*Tx)(nil)
)

var _ incident.WriteTx = (*Tx)(nil)

var _ incident.ReadTx = (*Tx)(nil)

var _ duty.Tx = (*Tx)(nil)

var _ duty.HandoverTx = (*Tx)(nil)

var _ problem.ProposeTx = (*Tx)(nil)

var _ problem.Tx = (*Tx)(nil)

var _ alert.Tx = (*Tx)(nil)

var _ ticket.Tx = (*Tx)(nil)

var _ ticket.Reader = (*Tx)(nil)

var _ inspect.Tx = (*Tx)(nil)

var _ inspect.PlanTx = (*Tx)(nil)

var _ inspect.Reader = (*Tx)(nil)

var _ backup.Tx = (*Tx)(nil)

var (
	_ digest.Tx             = (*Tx)(nil)
	_ digest.OrgReader      = (*Tx)(nil)
	_ digest.IncidentReader = (*Tx)(nil)
	_ digest.WorkReader     = (*Tx)(nil)
)

var _ backup.PlanTx = (*Tx)(nil)

var _ backup.ReportTx = (*Tx)(nil)

var _ backup.CheckTx = (*Tx)(nil)

var _ backup.Reader = (*Tx)(nil)
