package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/approval"
)

// Approvals is the approval engine, called as /request and the approval
// buttons in chat call it.
type Approvals interface {
	List(ctx context.Context, actor core.Actor, mine, pending bool) (own, waiting []approval.Detail, err error)
	Show(ctx context.Context, actor core.Actor, id int64) (approval.Detail, error)
	Decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string) (approval.Result, error)
}

// Request is a request (审批申请) on the wire.
type Request struct {
	ID        int64             `json:"id"`
	Kind      string            `json:"kind" enum:"app_online,app_offline,app_release,permission,change,operation"`
	Title     string            `json:"title"`
	State     string            `json:"state" enum:"pending,done,rejected,cancelled,expired"`
	Step      int               `json:"step" doc:"The current step, from 1."`
	StepName  string            `json:"step_name,omitempty" doc:"The current step's name (pending requests)."`
	Steps     int               `json:"steps" doc:"How many steps the route has."`
	Requester string            `json:"requester"`
	App       string            `json:"app,omitempty"`
	Unit      string            `json:"unit,omitempty"`
	Payload   map[string]string `json:"payload"`
	WaitingOn []string          `json:"waiting_on" doc:"Who may act on the current step (pending requests)."`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	StepSince time.Time         `json:"step_since"`
	ClosedAt  *time.Time        `json:"closed_at,omitempty"`
}

// RequestStep is one step of a request's route.
type RequestStep struct {
	Seq   int      `json:"seq"`
	Name  string   `json:"name"`
	Roles []string `json:"roles" doc:"Roles that may act on the step."`
	Scope string   `json:"scope" doc:"Whose holders of those roles: owner, city, app, target or requester."`
	Count int      `json:"count" doc:"Approvals the step needs."`
	Verbs []string `json:"verbs" doc:"What may be done on the step (approve, reject, done, …)."`
}

// RequestDecision is one person's act on one step.
type RequestDecision struct {
	Step     int       `json:"step"`
	Actor    string    `json:"actor"`
	Verb     string    `json:"verb"`
	Note     string    `json:"note,omitempty"`
	Window   string    `json:"window,omitempty" doc:"The change window an approver set."`
	Platform string    `json:"platform"`
	At       time.Time `json:"at"`
}

// RequestDetail is a request with its route and history.
type RequestDetail struct {
	Request   Request           `json:"request"`
	Route     []RequestStep     `json:"route"`
	Decisions []RequestDecision `json:"decisions"`
}

// Approve approves a request's step.
type Approve struct {
	Step int    `json:"step,omitempty" doc:"The step approved (default: the current one); a step that has moved on is refused (409)."`
	Note string `json:"note,omitempty"`
}

// Reject rejects a request's step, with a reason.
type Reject struct {
	Step   int    `json:"step,omitempty" doc:"The step rejected (default: the current one)."`
	Reason string `json:"reason" doc:"Required (422 note_required when empty)."`
}

func requestOf(r approval.Request, steps []approval.Step, next []string) Request {
	out := Request{ID: r.ID, Kind: string(r.Kind), Title: r.Title, State: string(r.State), Step: r.Step, Steps: len(steps),
		Requester: r.Requester, App: r.App, Unit: r.Unit, Payload: r.Payload, WaitingOn: next, CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt), StepSince: utc(r.StepSince), ClosedAt: utcp(r.ClosedAt)}
	if r.State == approval.StatePending && r.Step >= 1 && r.Step <= len(steps) {
		out.StepName = steps[r.Step-1].Name
	}
	if out.Payload == nil {
		out.Payload = map[string]string{}
	}
	if out.WaitingOn == nil {
		out.WaitingOn = []string{}
	}
	return out
}

func requestDetailOf(d approval.Detail) RequestDetail {
	return RequestDetail{Request: requestOf(d.Request, d.Steps, d.Next),
		Route: Convert(d.Steps, func(s approval.Step) RequestStep {
			roles := make([]string, 0, len(s.Roles))
			for _, r := range s.Roles {
				roles = append(roles, string(r))
			}
			verbs := s.Verbs
			if verbs == nil {
				verbs = []string{}
			}
			return RequestStep{Seq: s.Seq, Name: s.Name, Roles: roles, Scope: s.Scope, Count: s.Count, Verbs: verbs}
		}),
		Decisions: Convert(d.Decisions, func(x approval.Decision) RequestDecision {
			return RequestDecision{Step: x.Step, Actor: x.Actor, Verb: x.Verb, Note: x.Note, Window: x.Window, Platform: x.Platform, At: utc(x.At)}
		})}
}

var requestID = Param{Name: "id", Type: TypeInteger, Description: "The request's id."}

// requestRoutes are /api/v1/requests: the chat's /request commands and
// approval buttons.
func (a *API) requestRoutes() []Route {
	svc := func() Approvals { return a.cfg.Approvals }
	decide := func(c *Call, step int, verb, note string) (any, error) {
		id := c.Int("id")
		if _, err := svc().Decide(c.Ctx, c.Actor, id, step, verb, note); err != nil {
			var ce *core.Error
			if errors.As(err, &ce) && ce.Code == "note_required" {
				ce.Args["hint"] = `{"reason": "…"}` // what the chat's hint says, in this API's words
			}
			return nil, err
		}
		d, err := svc().Show(c.Ctx, c.Actor, id)
		if err != nil {
			return nil, err
		}
		return requestDetailOf(d), nil
	}
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/requests", OperationID: "listRequests", Tag: "requests", Paged: true,
			Summary: "List requests: those waiting for the caller and the caller's own, newest first",
			Params: []Param{
				{Name: "pending", Type: TypeBoolean, Description: "Those waiting for the caller to act (alone, unless mine is set too)."},
				{Name: "mine", Type: TypeBoolean, Description: "The caller's own requests (the 20 latest)."},
			},
			Response: Page[Request]{},
			Handle: func(c *Call) (any, error) {
				mine, pending := c.Bool("mine"), c.Bool("pending")
				if !mine && !pending {
					mine, pending = true, true
				}
				own, waiting, err := svc().List(c.Ctx, c.Actor, mine, pending)
				if err != nil {
					return nil, err
				}
				all := slices.Concat(waiting, own)
				slices.SortStableFunc(all, func(x, y approval.Detail) int { return cmp.Compare(y.Request.ID, x.Request.ID) })
				all = slices.CompactFunc(all, func(x, y approval.Detail) bool { return x.Request.ID == y.Request.ID })
				return PageOf(c, Convert(all, func(d approval.Detail) Request { return requestOf(d.Request, d.Steps, d.Next) }))
			}},
		{Method: http.MethodGet, Path: "/api/v1/requests/{id}", OperationID: "getRequest", Tag: "requests",
			Summary: "Show a request with its route and decisions (its requester, deciders, sys admins and operators)",
			Params:  []Param{requestID}, Response: RequestDetail{},
			Handle: func(c *Call) (any, error) {
				d, err := svc().Show(c.Ctx, c.Actor, c.Int("id"))
				if err != nil {
					return nil, err
				}
				return requestDetailOf(d), nil
			}},
		{Method: http.MethodPost, Path: "/api/v1/requests/{id}/approve", OperationID: "approveRequest", Tag: "requests",
			Summary: "Approve the current step (as the chat's approve button)", Params: []Param{requestID},
			Body: Approve{}, Response: RequestDetail{},
			Handle: func(c *Call) (any, error) {
				b := BodyOf[Approve](c)
				return decide(c, b.Step, approval.VerbApprove, b.Note)
			}},
		{Method: http.MethodPost, Path: "/api/v1/requests/{id}/reject", OperationID: "rejectRequest", Tag: "requests",
			Summary: "Reject the current step with a reason", Params: []Param{requestID},
			Body: Reject{}, Response: RequestDetail{},
			Handle: func(c *Call) (any, error) {
				b := BodyOf[Reject](c)
				return decide(c, b.Step, approval.VerbReject, b.Reason)
			}},
	}
}
