package bot

import (
	"context"
	"time"

	"opsbot/core/approval"
	"opsbot/core/incident"
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
