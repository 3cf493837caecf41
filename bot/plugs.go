package bot

import (
	"context"
	"time"

	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/inspect"
	"opsbot/core/ticket"
)

// The plugs below wrap domains whose commands still register themselves
// and whose notices still render from string maps; each moves into its
// domain's file as a full Module when its notices are typed.

// Approvals plugs the approval domain: app onboarding, releases, grants,
// changes and dual-person operations.
func Approvals(svc *approval.Service) Plug {
	return func(b *Bot) Module {
		b.approvals = svc
		b.registerApprovals()
		return Module{Name: "approval", Topic: "approval", Timers: map[string]TimerFunc{
			approval.TimerRemind: svc.HandleTimer, approval.TimerWindowEnd: svc.HandleTimer,
		}}
	}
}

// Tickets plugs tickets with working-day SLAs.
func Tickets(svc *ticket.Service) Plug {
	return func(b *Bot) Module {
		b.tickets = svc
		b.registerTickets()
		return Module{Name: "ticket", Topic: "ticket", Timers: map[string]TimerFunc{ticket.TimerSLA: svc.HandleTimer}}
	}
}

// Inspections plugs inspection plans and checklists.
func Inspections(svc *inspect.Service) Plug {
	return func(b *Bot) Module {
		b.inspections = svc
		b.registerInspections()
		return Module{Name: "inspect", Topic: "inspect", Timers: map[string]TimerFunc{
			inspect.TimerDue: svc.HandleTimer, inspect.TimerGrace: svc.HandleTimer,
		}}
	}
}

// Backups plugs backup plans, reports, restore tests and the monthly
// audit (sent at 09:00 on the 1st, caught up until the evening).
func Backups(svc *backup.Service) Plug {
	return func(b *Bot) Module {
		b.backups = svc
		b.registerBackups()
		return Module{Name: "backup", Topic: "backup",
			Timers: map[string]TimerFunc{backup.TimerCheck: svc.HandleTimer, backup.TimerVerify: svc.HandleTimer},
			Jobs: []Job{{Type: backup.TaskAudit, At: "09:00", CatchUp: 15 * time.Hour, Run: func(ctx context.Context, _ time.Time) error {
				created, err := svc.MonthlyAudit(ctx)
				if created {
					b.log.Info("monthly backup audit sent")
				}
				return err
			}}},
		}
	}
}

// Digests plugs the daily digest, sent at at (HH:MM) on working days.
func Digests(svc *digest.Service, at string) Plug {
	return func(b *Bot) Module {
		b.digests = svc
		b.registerDigest()
		return Module{Name: "digest", Jobs: []Job{{Type: digest.TaskDaily, At: at, Run: func(ctx context.Context, slot time.Time) error {
			n, err := svc.SendDaily(ctx, slot)
			if n > 0 {
				b.log.Info("daily digests sent", "count", n)
			}
			return err
		}}}}
	}
}
