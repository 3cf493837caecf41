package bot

import (
	"context"
	"time"

	"opsbot/core/backup"
	"opsbot/core/digest"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/ticket"
)

// The plugs below wrap domains whose commands still register themselves
// and whose notices still render from string maps; each moves into its
// domain's file as a full Module when its notices are typed.

// Incidents plugs incidents, duty, handovers, problems and alerts;
// handovers are looked for every handoverEvery.
func Incidents(svc *incident.Service, silencer Silencer, handoverEvery time.Duration) Plug {
	return func(b *Bot) Module {
		b.incidents, b.silencer = svc, silencer
		b.registerIncidents()
		b.registerHandovers()
		b.registerProblems()
		b.registerAlerts()
		return Module{Name: "incident", Topic: "incident",
			Timers: map[string]TimerFunc{
				incident.TimerEscalation: svc.HandleTimer, incident.TimerProgress: svc.HandleTimer, incident.TimerActionDue: svc.HandleTimer,
				incident.TimerAlertFlush: svc.HandleAlertTimer, incident.TimerAlertNon200: svc.HandleAlertTimer,
				incident.TimerHandoverCheck: svc.HandleHandoverTimer,
			},
			Jobs: []Job{{Type: "duty:handover", Every: handoverEvery, Run: func(ctx context.Context, _ time.Time) error {
				n, err := svc.StartHandovers(ctx)
				if n > 0 {
					b.log.Info("handovers started", "count", n)
				}
				return err
			}}},
		}
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
