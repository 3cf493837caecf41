package bot

import (
	"context"
	"time"

	"opsbot/core/incident"
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
