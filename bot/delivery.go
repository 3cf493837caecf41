package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"opsbot/core/delivery"
)

// outboxKey is the context key of the outbox notice being delivered.
type outboxKey struct{}

// WithOutbox tells a Sender which outbox notice it is sending, so a
// platform that can store a key (webchat) stores each notice once per
// recipient however often it is retried.
func WithOutbox(ctx context.Context, outboxID int64) context.Context {
	return context.WithValue(ctx, outboxKey{}, outboxID)
}

// OutboxOf returns the outbox notice being sent (0 for a direct reply).
func OutboxOf(ctx context.Context) int64 {
	id, _ := ctx.Value(outboxKey{}).(int64)
	return id
}

// JobDeliveryFailures is the hourly job that tells the sys admins how
// many notices failed for good on a platform.
const JobDeliveryFailures = "delivery:failures"

// deliveryBot is the delivery report's part of the bot.
type deliveryBot struct {
	*Bot
	svc *delivery.Service
}

// Delivery plugs the hourly report of notices that failed for good on a
// platform (each went to the user's next platform, or nowhere).
func Delivery(svc *delivery.Service) Plug {
	return func(b *Bot) Module {
		d := deliveryBot{Bot: b, svc: svc}
		return Module{
			Name:    "delivery",
			Notices: []NoticeRenderer{Renders(d.renderFailures)},
			Jobs: []Job{{Type: JobDeliveryFailures, Every: time.Hour, Run: func(ctx context.Context, _ time.Time) error {
				_, err := svc.Report(ctx)
				return err
			}}},
		}
	}
}

func (d deliveryBot) renderFailures(ref string, n delivery.Failures) (Message, error) {
	lines := make([]string, 0, len(n.Platforms))
	for _, p := range n.Platforms {
		name := d.firstKnown(p.Platform, "platform.")
		if name == "" {
			name = d.t("delivery.failures.nowhere")
		}
		lines = append(lines, d.t("delivery.failures.line", "platform", name, "count", strconv.Itoa(p.Count)))
	}
	return Message{Ref: ref, Status: StatusNotice, Title: d.t("delivery.failures.title", "count", strconv.Itoa(n.Total)),
		Text: d.t("delivery.failures", "count", strconv.Itoa(n.Total), "since", d.fmtTime(n.Since)) + "\n" + strings.Join(lines, "\n")}, nil
}
