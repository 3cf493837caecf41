package incident

import (
	"context"
	"fmt"

	"opsbot/core"
)

// Ops are the incident operations another domain (alert ingestion, the
// problem library) runs inside its own transaction, so its change and
// the incident's commit together. Get them with Service.In.
type Ops struct {
	s  *Service
	tx WriteTx
}

// In binds the incident operations to another domain's transaction tx,
// which must implement WriteTx as well (the store's does).
func (s *Service) In(tx core.Tx) (Ops, error) {
	w, ok := tx.(WriteTx)
	if !ok {
		return Ops{}, fmt.Errorf("incident: %T is no incident transaction", tx)
	}
	return Ops{s: s, tx: w}, nil
}

// Open stores a new incident as by declared it (event body body): its
// rotation, when unset, is the one covering its unit; the first step's
// people own it (returned), its clocks start. No card is sent.
func (o Ops) Open(ctx context.Context, inc *Incident, by core.Actor, body string) ([]string, error) {
	return o.s.open(ctx, o.tx, inc, by, body)
}

// Get reads an incident (incident_not_found when none); lock takes its row lock.
func (o Ops) Get(ctx context.Context, id int64, lock bool) (Incident, error) {
	return load(ctx, o.tx, id, lock)
}

// Save writes an incident's changed state.
func (o Ops) Save(ctx context.Context, i Incident) error { return o.tx.UpdateIncident(ctx, i) }

// Note adds an event to an incident's timeline, now.
func (o Ops) Note(ctx context.Context, id int64, actor, kind, body string) error {
	return o.tx.InsertEvent(ctx, id, Event{At: o.s.clock.Now(), Actor: actor, Kind: kind, Body: body})
}

// Events returns an incident's timeline.
func (o Ops) Events(ctx context.Context, id int64) ([]Event, error) {
	r, ok := o.tx.(interface {
		Events(ctx context.Context, incidentID int64) ([]Event, error)
	})
	if !ok {
		return nil, fmt.Errorf("incident: %T reads no timeline", o.tx)
	}
	return r.Events(ctx, id)
}

// Ack acknowledges an incident as actor (a page answered: the reply or
// link is spent in the same transaction), audited as on the chat path.
func (o Ops) Ack(ctx context.Context, actor core.Actor, id int64) error {
	_, err := o.s.changeIn(ctx, o.tx, actor, id, "incident.ack", true, o.s.ack(ctx, actor))
	return err
}

// Restart starts an open incident's clocks again (a reopened incident).
func (o Ops) Restart(ctx context.Context, i Incident) error { return o.s.startClocks(ctx, o.tx, i) }

// Stop cancels every timer of an incident (it resolved by itself).
func (o Ops) Stop(ctx context.Context, i Incident) error { return o.tx.CancelTimers(ctx, i.Ref(), "") }

// Card is the incident's card, with an alert group's state when given.
func (o Ops) Card(ctx context.Context, i Incident, alert *AlertState) CardData {
	return o.s.card(ctx, o.tx, i, alert)
}

// Broadcast tells the incident's stakeholders and channel about an event.
func (o Ops) Broadcast(ctx context.Context, i Incident, actor core.Actor, event, body string) error {
	return o.s.broadcast(ctx, o.tx, i, actor, event, body)
}

// Targets resolves escalation target names (primary, unit_admin …) for i.
func (o Ops) Targets(ctx context.Context, i Incident, names ...string) ([]string, error) {
	return o.s.targets(ctx, o.tx, i, names)
}

// Send sends p about ref to users and, when set, to channel.
func (o Ops) Send(ctx context.Context, ref string, users []string, channel string, p core.Payload) error {
	return send(ctx, o.tx, ref, users, channel, p)
}

// Channel is where the incident's cards and events go ("" for none).
func (o Ops) Channel(i Incident) string { return o.s.channelOf(i) }

// Record audits actor's action on the incident (before, then i).
func (o Ops) Record(ctx context.Context, actor core.Actor, action string, i Incident, before any) error {
	return o.s.record(ctx, o.tx, actor, action, i, before)
}

// AddStakeholders adds users to those told about the incident.
func AddStakeholders(i *Incident, users ...string) { addStakeholders(i, users...) }

// Authorities returns who has authority over i (W 8.5 a): its owner, the
// people on duty for it, operators, sys admins and the admins covering its unit.
func (o Ops) Authorities(ctx context.Context, i Incident) ([]string, error) {
	return o.s.authorities(ctx, o.tx, i)
}
