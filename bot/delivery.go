package bot

import "context"

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
