package console

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/approval"
)

// Approvals is the approval engine (approval.Service), called as /request
// in chat, the approval buttons and /api/v1/requests call it.
type Approvals interface {
	List(ctx context.Context, actor core.Actor, mine, pending bool) (own, waiting []approval.Detail, err error)
	Show(ctx context.Context, actor core.Actor, id int64) (approval.Detail, error)
	Decide(ctx context.Context, actor core.Actor, id int64, step int, verb, note string) (approval.Result, error)
}

// requestPages are the requests waiting for me and mine, the page of one
// request, and its decision form.
func (c *Console) requestPages() []Page {
	if c.svc.Approvals == nil {
		return nil
	}
	return []Page{
		{Path: "/console/requests", Nav: NavRequests, Title: "console.requests.title", Template: "requests.html", Handle: c.requestList},
		{Path: "/console/requests/{id}", Nav: NavRequests, Title: "console.requests.title", Template: "request.html", Handle: c.requestPage},
		{Path: "/console/requests/{id}/decide", Method: "POST", Nav: NavRequests, Title: "console.requests.title", Handle: c.requestDecide},
	}
}

// requestRow is a request in a list, with how long its step has waited.
type requestRow struct {
	approval.Request
	StepName string // the current step's name (pending requests)
	Waited   string // working time the current step has waited, "" when closed
}

// requestList is the list page's data: the requests waiting for me, and mine.
type requestList struct{ Sections []requestSection }

// requestSection is one list of the page.
type requestSection struct {
	ID, Title string // the section's element id and title key
	Rows      []requestRow
}

// requestList lists the requests waiting for the signed-in user and their
// own (approval.List, as /request list), inside the unit filter when one
// is picked.
func (c *Console) requestList(r *Request) (any, error) {
	own, waiting, err := c.svc.Approvals.List(r.Context(), r.Actor, true, true)
	if err != nil {
		return nil, err
	}
	rows := func(ds []approval.Detail) []requestRow {
		out := make([]requestRow, 0, len(ds))
		for _, d := range ds {
			if r.Unit != "" && !r.View.Keeps(d.Request.Unit, d.Request.Requester) {
				continue
			}
			out = append(out, rowOf(r, d))
		}
		return out
	}
	// Longest waiting first; mine newest first.
	w, m := rows(waiting), rows(own)
	slices.SortStableFunc(w, func(a, b requestRow) int { return a.StepSince.Compare(b.StepSince) })
	slices.SortStableFunc(m, func(a, b requestRow) int { return cmp.Compare(b.ID, a.ID) })
	return requestList{Sections: []requestSection{
		{ID: "waiting", Title: "console.requests.waiting", Rows: w},
		{ID: "mine", Title: "console.requests.mine", Rows: m},
	}}, nil
}

func rowOf(r *Request, d approval.Detail) requestRow {
	row := requestRow{Request: d.Request}
	if q := d.Request; q.State == approval.StatePending && q.Step >= 1 && q.Step <= len(d.Steps) {
		row.StepName = d.Steps[q.Step-1].Name
		row.Waited = r.Dur(d.Waited)
	}
	return row
}

// routeStep is one step of a request's route with what was decided on it.
type routeStep struct {
	approval.Step
	RoleNames []string // the roles that may decide it, by name
	Current   bool
	Decisions []approval.Decision
}

// verbForm is one decision the signed-in user may make on the current step.
type verbForm struct {
	Verb string
	// Note marks a verb that must carry a reason or result.
	Note bool
}

// requestDetail is a request's page: the detail /request show reads.
type requestDetail struct {
	approval.Detail
	Payload []bot.Field
	Route   []routeStep
	// Waited is how long the current step has waited, in working time
	// ("" when closed).
	Waited string
	// Forms are the signed-in user's decisions on the current step (they
	// are among those it waits on); none otherwise.
	Forms []verbForm
	// Outcome is what the user just decided ("" none), Missing how many
	// approvals the step still needs after it.
	Outcome, Missing string
}

// requestPage shows one request to those core lets see it (its
// requester, deciders, sys admins and operators; others get the chat's
// reason with 403).
func (c *Console) requestPage(r *Request) (any, error) {
	id, err := pathID(r, "request_not_found")
	if err != nil {
		return nil, err
	}
	d, err := c.svc.Approvals.Show(r.Context(), r.Actor, id)
	if err != nil {
		return nil, err
	}
	q := d.Request
	out := requestDetail{Detail: d, Payload: bot.PayloadFields(r.Lang, q.Payload, r.Person)}
	for _, st := range d.Steps {
		rs := routeStep{Step: st, Current: q.State == approval.StatePending && st.Seq == q.Step}
		for _, role := range st.Roles {
			rs.RoleNames = append(rs.RoleNames, r.Label("role.", string(role)))
		}
		for _, dec := range d.Decisions {
			if dec.Step == st.Seq {
				rs.Decisions = append(rs.Decisions, dec)
			}
		}
		out.Route = append(out.Route, rs)
	}
	if q.State == approval.StatePending {
		out.Waited = r.Dur(d.Waited)
		if slices.Contains(d.Next, r.Actor.UserID) && q.Step >= 1 && q.Step <= len(d.Steps) {
			for _, v := range d.Steps[q.Step-1].Verbs {
				out.Forms = append(out.Forms, verbForm{Verb: v, Note: approval.NeedsNote[v]})
			}
		}
	}
	if v := r.URL.Query().Get("done"); v != "" {
		out.Outcome = r.Label("verb.", v)
		out.Missing = r.URL.Query().Get("missing")
	}
	return out, nil
}

// requestDecide applies the form's decision to the request's step
// (approval.Decide, as the chat's button and POST
// /api/v1/requests/{id}/approve|reject do) and goes back to the page,
// which shows the outcome.
func (c *Console) requestDecide(r *Request) (any, error) {
	id, err := pathID(r, "request_not_found")
	if err != nil {
		return nil, err
	}
	verb := r.PostFormValue("verb")
	step, err := intParam(r.PostFormValue("step"), "step")
	if err != nil {
		return nil, err
	}
	res, err := c.svc.Approvals.Decide(r.Context(), r.Actor, id, step, verb, r.PostFormValue("note"))
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) && ce.Code == "note_required" {
			ce.Args["hint"] = r.T("console.requests.note_hint") // what the chat's hint says, in the page's words
		}
		return nil, err
	}
	missing := ""
	if res.Waiting > 0 {
		missing = strconv.Itoa(res.Waiting)
	}
	return Redirect(r.Link("/console/requests/"+strconv.FormatInt(id, 10), "done", verb, "missing", missing) + "#outcome"), nil
}

// pathID reads the {id} of the path; a malformed one is not found (code).
func pathID(r *Request, code string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, core.NotFound(code, "id", r.PathValue("id"))
	}
	return id, nil
}
