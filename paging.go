package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	apaging "opsbot/adapters/paging"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/paging"
)

// pagingTypes builds a provider of paging.providers by its type (aliyun,
// tencent, smtp, webhook): each provider package under adapters/paging
// adds its constructor here.
var pagingTypes = map[string]func(p configs.PagingProvider) (paging.Provider, error){}

func init() {
	for _, kind := range apaging.Kinds {
		pagingTypes[kind] = func(p configs.PagingProvider) (paging.Provider, error) { return apaging.New(p.Type, p.Settings) }
	}
}

// pagingCallbacks serves the providers' reply callbacks (an SMS answered
// "1", a key pressed in a call), which acknowledge through acker. The
// webhook gateway's replies are checked with the first webhook
// provider's secret.
func pagingCallbacks(cfg *configs.Config, acker paging.Acker, logger *slog.Logger) (http.Handler, error) {
	secret := ""
	for _, p := range cfg.Paging.Providers {
		if p.Type != "webhook" {
			continue
		}
		s, err := apaging.Settings(p.Type, p.Settings)
		if err != nil {
			return nil, fmt.Errorf("paging.providers %s: %w", p.Name, err)
		}
		secret = s["secret"]
		break
	}
	return apaging.Callbacks(acker, apaging.CallbackConfig{Token: cfg.Paging.CallbackToken, WebhookSecret: secret, Logger: logger}), nil
}

// pagingProviders builds the configured providers, in order, each
// limited to the methods its entry lists.
func pagingProviders(cfg *configs.Config) ([]paging.Provider, error) {
	var out []paging.Provider
	for _, p := range cfg.Paging.Providers {
		build, ok := pagingTypes[p.Type]
		if !ok {
			return nil, fmt.Errorf("paging.providers %s: unknown type %q", p.Name, p.Type)
		}
		prov, err := build(p)
		if err != nil {
			return nil, fmt.Errorf("paging.providers %s: %w", p.Name, err)
		}
		var methods []paging.Method
		for _, m := range p.Methods {
			if !slices.Contains(prov.Methods(), paging.Method(m)) {
				return nil, fmt.Errorf("paging.providers %s: type %s cannot send %s", p.Name, p.Type, m)
			}
			methods = append(methods, paging.Method(m))
		}
		out = append(out, limited{prov, methods})
	}
	return out, nil
}

// limited is a provider sending only the methods its config entry lists.
type limited struct {
	paging.Provider
	methods []paging.Method
}

func (l limited) Methods() []paging.Method { return l.methods }

// latePager lets the incident service page through the paging service
// built after it (paging acknowledges through incidents).
type latePager struct{ svc *paging.Service }

func (l *latePager) Page(ctx context.Context, tx core.Tx, inc paging.Incident) error {
	if l.svc == nil {
		return nil
	}
	return l.svc.Page(ctx, tx, inc)
}

// incidentAcks acknowledges incidents for the paging service, inside
// its transaction.
type incidentAcks struct{ svc *incident.Service }

func (a incidentAcks) Ack(ctx context.Context, tx core.Tx, actor core.Actor, id int64) error {
	ops, err := a.svc.In(tx)
	if err != nil {
		return err
	}
	return ops.Ack(ctx, actor, id)
}

// incidentTimeline notes page deliveries on the incident's timeline.
type incidentTimeline struct{ svc *incident.Service }

func (t incidentTimeline) Note(ctx context.Context, tx core.Tx, id int64, kind, body string) error {
	ops, err := t.svc.In(tx)
	if err != nil {
		return err
	}
	return ops.Note(ctx, id, core.SystemUser, kind, body)
}
