package slack

import (
	"context"
	"errors"
	"fmt"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// acker acknowledges Socket Mode requests; *socketmode.Client is one.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// Run receives events over Socket Mode until ctx ends, when SocketMode is
// on; otherwise it returns nil at once (HTTP mode needs no loop). The
// requests go through the same dispatch as HTTP ones.
func (a *Adapter) Run(ctx context.Context) error {
	if !a.cfg.SocketMode {
		return nil
	}
	client := socketmode.New(a.api)
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	defer a.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt := <-client.Events:
			a.onSocketEvent(ctx, evt, client)
		}
	}
}

// onSocketEvent handles one Socket Mode event: requests from Slack are
// dispatched and acknowledged with dispatch's payload; connection events
// are logged.
func (a *Adapter) onSocketEvent(ctx context.Context, evt socketmode.Event, ack acker) {
	var in inbound
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackapi.SlashCommand)
		if !ok {
			a.log.Warn("socket mode: malformed slash command ignored")
			break
		}
		in.Command = &cmd
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackapi.InteractionCallback)
		if !ok {
			a.log.Warn("socket mode: malformed interaction ignored")
			break
		}
		in.Interaction = &cb
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			a.log.Warn("socket mode: malformed event ignored")
			break
		}
		in.Event = &ev
		if evt.Request != nil {
			in.Retry = evt.Request.RetryAttempt
		}
	case socketmode.EventTypeConnecting, socketmode.EventTypeConnected, socketmode.EventTypeHello:
		a.log.Debug("socket mode", "event", string(evt.Type))
		return
	case socketmode.EventTypeDisconnect:
		a.log.Info("socket mode: Slack asked to reconnect")
		return
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("socket mode: Slack refuses the app token; fix slack.app_token")
		return
	default:
		a.log.Warn("socket mode", "event", string(evt.Type), "data", fmt.Sprint(evt.Data))
		return
	}
	var payload any
	if in.Command != nil || in.Interaction != nil || in.Event != nil {
		payload = a.dispatch(ctx, in)
	}
	if evt.Request == nil {
		return
	}
	// Acknowledge even what was ignored, or Slack sends it again.
	var err error
	if payload == nil {
		err = ack.Ack(*evt.Request)
	} else {
		err = ack.Ack(*evt.Request, payload)
	}
	if err != nil {
		a.log.Warn("socket mode: ack failed", "envelope_id", evt.Request.EnvelopeID, "err", err)
	}
}
