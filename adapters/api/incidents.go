package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
)

// Incidents is the incident service, called as /incident in chat calls it.
type Incidents interface {
	Query(ctx context.Context, actor core.Actor, f incident.Filter) ([]incident.Incident, error)
	Show(ctx context.Context, actor core.Actor, id int64) (incident.Detail, error)
	Declare(ctx context.Context, actor core.Actor, title string, level int, system, unit string) (incident.Incident, error)
	Ack(ctx context.Context, actor core.Actor, id int64) (incident.Incident, error)
	Escalate(ctx context.Context, actor core.Actor, id int64) (incident.Incident, error)
	Update(ctx context.Context, actor core.Actor, id int64, text string) (incident.Incident, error)
	Mitigate(ctx context.Context, actor core.Actor, id int64, text string) (incident.Incident, error)
	Resolve(ctx context.Context, actor core.Actor, id int64, summary string) (incident.Incident, error)
	Assign(ctx context.Context, actor core.Actor, id int64, user string) (incident.Incident, error)
	SetLevel(ctx context.Context, actor core.Actor, id int64, level int) (incident.Incident, error)
}

const incidentStates = "declared,acknowledged,mitigated,resolved,closed"

// Incident is an incident on the wire.
type Incident struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Level        int        `json:"level" doc:"1 (most severe) to 4."`
	State        string     `json:"state" enum:"declared,acknowledged,mitigated,resolved,closed"`
	System       string     `json:"system,omitempty" doc:"The app (system) code affected."`
	Unit         string     `json:"unit,omitempty"`
	Rotation     string     `json:"rotation,omitempty" doc:"The duty rotation paged."`
	Owner        string     `json:"owner,omitempty" doc:"Who handles it (user id)."`
	Source       string     `json:"source" doc:"chat, alertmanager, api, …"`
	DeclaredBy   string     `json:"declared_by"`
	Stakeholders []string   `json:"stakeholders"`
	Escalation   int        `json:"escalation" doc:"Escalation steps taken so far."`
	Summary      string     `json:"summary,omitempty"`
	Cause        string     `json:"cause,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
	MitigatedAt  *time.Time `json:"mitigated_at,omitempty"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	LastUpdateAt time.Time  `json:"last_update_at"`
}

func incidentOf(i incident.Incident) Incident {
	stake := i.Stakeholders
	if stake == nil {
		stake = []string{}
	}
	return Incident{ID: i.ID, Title: i.Title, Level: i.Level, State: i.State, System: i.System, Unit: i.Unit, Rotation: i.Rotation,
		Owner: i.Owner, Source: i.Source, DeclaredBy: i.DeclaredBy, Stakeholders: stake, Escalation: i.Escalation, Summary: i.Summary,
		Cause: i.Cause, CreatedAt: utc(i.CreatedAt), AckedAt: utcp(i.AckedAt), MitigatedAt: utcp(i.MitigatedAt),
		ResolvedAt: utcp(i.ResolvedAt), ClosedAt: utcp(i.ClosedAt), LastUpdateAt: utc(i.LastUpdateAt)}
}

// IncidentEvent is one line of an incident's timeline.
type IncidentEvent struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind" doc:"declare, ack, escalate, update, mitigate, resolve, assign, level, …"`
	Body  string    `json:"body,omitempty"`
}

// IncidentAction is a follow-up action from an incident's review.
type IncidentAction struct {
	ID    int64     `json:"id"`
	Body  string    `json:"body"`
	Owner string    `json:"owner"`
	Due   time.Time `json:"due"`
	Done  bool      `json:"done"`
}

// OnDuty is who is on duty for an incident's rotation now.
type OnDuty struct {
	Primary   string `json:"primary,omitempty"`
	Secondary string `json:"secondary,omitempty"`
}

// IncidentDetail is an incident with its timeline.
type IncidentDetail struct {
	Incident Incident         `json:"incident"`
	Timeline []IncidentEvent  `json:"timeline"`
	Actions  []IncidentAction `json:"actions"`
	OnDuty   OnDuty           `json:"on_duty"`
	Problem  int64            `json:"problem,omitempty" doc:"The problem record it is linked to."`
}

// DeclareIncident declares an incident.
type DeclareIncident struct {
	Title  string `json:"title"`
	Level  int    `json:"level" doc:"1 (most severe) to 4."`
	System string `json:"system,omitempty" doc:"The app (system) code affected."`
	Unit   string `json:"unit,omitempty" doc:"The unit affected (default: the system's owner unit)."`
}

// IncidentText is a progress update or a mitigation note.
type IncidentText struct {
	Text string `json:"text"`
}

// ResolveIncident resolves an incident with its summary.
type ResolveIncident struct {
	Summary string `json:"summary"`
}

// AssignIncident hands an incident to a user.
type AssignIncident struct {
	User string `json:"user"`
}

// IncidentLevel regrades an incident.
type IncidentLevel struct {
	Level int `json:"level" doc:"1 (most severe) to 4."`
}

var incidentID = Param{Name: "id", Type: TypeInteger, Description: "The incident's id."}

// incidentRoutes are /api/v1/incidents: the chat's /incident commands.
func (a *API) incidentRoutes() []Route {
	svc := func() Incidents { return a.cfg.Incidents }
	act := func(path, op, summary string, body any, fn func(c *Call, id int64) (incident.Incident, error)) Route {
		return Route{Method: http.MethodPost, Path: "/api/v1/incidents/{id}/" + path, OperationID: op, Tag: "incidents",
			Summary: summary, Params: []Param{incidentID}, Body: body, Response: Incident{},
			Handle: func(c *Call) (any, error) {
				i, err := fn(c, c.Int("id"))
				if err != nil {
					return nil, err
				}
				return incidentOf(i), nil
			}}
	}
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/incidents", OperationID: "listIncidents", Tag: "incidents", Paged: true,
			Summary: "List incidents, newest first, filtered", Response: Page[Incident]{},
			Params: []Param{
				{Name: "state", Enum: append([]string{incident.StateOpen}, strings.Split(incidentStates, ",")...),
					Description: "One state, or open (not resolved or closed)."},
				{Name: "level", Type: TypeInteger, Description: "1 to 4."},
				{Name: "unit", Description: "The unit's code."},
				{Name: "system", Description: "The app (system) code."},
				{Name: "since", Type: TypeTime, Description: "Declared at or after."},
				{Name: "until", Type: TypeTime, Description: "Declared before."},
				{Name: "q", Description: "Text in the title or summary (any case)."},
			},
			Handle: a.listIncidents},
		{Method: http.MethodGet, Path: "/api/v1/incidents/{id}", OperationID: "getIncident", Tag: "incidents",
			Summary: "Show an incident with its timeline", Params: []Param{incidentID}, Response: IncidentDetail{},
			Handle: a.showIncident},
		{Method: http.MethodPost, Path: "/api/v1/incidents", OperationID: "declareIncident", Tag: "incidents",
			Summary: "Declare an incident (pages the first escalation step)", Body: DeclareIncident{}, Response: Incident{},
			Status: http.StatusCreated,
			Handle: func(c *Call) (any, error) {
				b := BodyOf[DeclareIncident](c)
				i, err := svc().Declare(c.Ctx, c.Actor, b.Title, b.Level, b.System, b.Unit)
				if err != nil {
					return nil, err
				}
				return incidentOf(i), nil
			}},
		act("ack", "ackIncident", "Acknowledge: the pending escalation steps are cancelled", nil,
			func(c *Call, id int64) (incident.Incident, error) { return svc().Ack(c.Ctx, c.Actor, id) }),
		act("escalate", "escalateIncident", "Move to the next escalation step now", nil,
			func(c *Call, id int64) (incident.Incident, error) { return svc().Escalate(c.Ctx, c.Actor, id) }),
		act("updates", "updateIncident", "Post a progress update to the stakeholders", IncidentText{},
			func(c *Call, id int64) (incident.Incident, error) {
				return svc().Update(c.Ctx, c.Actor, id, BodyOf[IncidentText](c).Text)
			}),
		act("mitigate", "mitigateIncident", "Mark the impact contained", IncidentText{},
			func(c *Call, id int64) (incident.Incident, error) {
				return svc().Mitigate(c.Ctx, c.Actor, id, BodyOf[IncidentText](c).Text)
			}),
		act("resolve", "resolveIncident", "Resolve with a summary; escalation and reminders stop", ResolveIncident{},
			func(c *Call, id int64) (incident.Incident, error) {
				return svc().Resolve(c.Ctx, c.Actor, id, BodyOf[ResolveIncident](c).Summary)
			}),
		act("assign", "assignIncident", "Hand the incident to a user", AssignIncident{},
			func(c *Call, id int64) (incident.Incident, error) {
				return svc().Assign(c.Ctx, c.Actor, id, BodyOf[AssignIncident](c).User)
			}),
		act("level", "setIncidentLevel", "Regrade: escalation and reminders follow the new level", IncidentLevel{},
			func(c *Call, id int64) (incident.Incident, error) {
				return svc().SetLevel(c.Ctx, c.Actor, id, BodyOf[IncidentLevel](c).Level)
			}),
	}
}

func (a *API) listIncidents(c *Call) (any, error) {
	before, err := CursorInt(c)
	if err != nil {
		return nil, err
	}
	view, err := a.cfg.Profiles.View(c.Ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	// A unit outside the caller's scope is refused, as on the console.
	if view, err = view.Narrow(c.String("unit")); err != nil {
		return nil, err
	}
	f := incident.Filter{State: c.String("state"), Level: int(c.Int("level")), Unit: c.String("unit"), System: c.String("system"),
		Since: c.Time("since"), Until: c.Time("until"), Text: c.String("q"), Before: before, Limit: c.Limit() + 1, View: &view}
	list, err := a.cfg.Incidents.Query(c.Ctx, c.Actor, f)
	if err != nil {
		return nil, err
	}
	p := Page[Incident]{Items: Convert(list[:min(len(list), c.Limit())], incidentOf)}
	if len(list) > c.Limit() {
		p.NextCursor = EncodeCursor(strconv.FormatInt(list[c.Limit()-1].ID, 10))
	}
	return p, nil
}

func (a *API) showIncident(c *Call) (any, error) {
	d, err := a.cfg.Incidents.Show(c.Ctx, c.Actor, c.Int("id"))
	if err != nil {
		return nil, err
	}
	return IncidentDetail{Incident: incidentOf(d.Incident),
		Timeline: Convert(d.Events, func(e incident.Event) IncidentEvent {
			return IncidentEvent{At: utc(e.At), Actor: e.Actor, Kind: e.Kind, Body: e.Body}
		}),
		Actions: Convert(d.Actions, func(x incident.Action) IncidentAction {
			return IncidentAction{ID: x.ID, Body: x.Body, Owner: x.Owner, Due: utc(x.Due), Done: x.Done}
		}),
		OnDuty: OnDuty{Primary: d.OnDuty.Primary, Secondary: d.OnDuty.Secondary}, Problem: d.Problem}, nil
}
