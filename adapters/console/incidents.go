package console

import (
	"context"
	"slices"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
)

// Incidents is the incident service (incident.Service), as /incident in
// chat and /api/v1/incidents call it.
type Incidents interface {
	Query(ctx context.Context, actor core.Actor, f incident.Filter) ([]incident.Incident, error)
	Show(ctx context.Context, actor core.Actor, id int64) (incident.Detail, error)
}

// incidentPageSize is how many incidents one list page shows.
const incidentPageSize = 50

// incidentPages are the incident list and the page of one incident.
func (c *Console) incidentPages() []Page {
	if c.svc.Incidents == nil {
		return nil
	}
	return []Page{
		{Path: "/console/incidents", Nav: NavIncidents, Title: "console.incidents.title", Template: "incidents.html", Handle: c.incidentList},
		{Path: "/console/incidents/{id}", Nav: NavIncidents, Title: "console.incidents.title", Template: "incident.html", Handle: c.incidentPage},
	}
}

// incidentFilter is the list's filter as the form shows it.
type incidentFilter struct {
	State, Level, System, Since, Until, Q string
}

// incidentList is the list page's data.
type incidentList struct {
	Filter incidentFilter
	Items  []incident.Incident
	Next   string // link to the next page, "" on the last
	States []string
}

// incidentList lists the incidents the filter selects inside the view,
// newest first, a page at a time (?before=id).
func (c *Console) incidentList(r *Request) (any, error) {
	q := r.URL.Query()
	d := incidentList{Filter: incidentFilter{State: q.Get("state"), Level: q.Get("level"), System: q.Get("system"),
		Since: q.Get("since"), Until: q.Get("until"), Q: q.Get("q")},
		States: []string{incident.StateOpen, incident.StateDeclared, incident.StateAcknowledged, incident.StateMitigated,
			incident.StateResolved, incident.StateClosed}}
	f := incident.Filter{State: d.Filter.State, System: d.Filter.System, Text: d.Filter.Q, Limit: incidentPageSize + 1, View: &r.View}
	var err error
	if f.Level, err = intParam(q.Get("level"), "level"); err != nil {
		return nil, err
	}
	if f.Since, err = dateParam(r, q.Get("since"), "since", false); err != nil {
		return nil, err
	}
	if f.Until, err = dateParam(r, q.Get("until"), "until", true); err != nil {
		return nil, err
	}
	before, err := intParam(q.Get("before"), "before")
	if err != nil {
		return nil, err
	}
	f.Before = int64(before)
	list, err := c.svc.Incidents.Query(r.Context(), r.Actor, f)
	if err != nil {
		return nil, err
	}
	if len(list) > incidentPageSize {
		list = list[:incidentPageSize]
		d.Next = r.Link("/console/incidents", "state", d.Filter.State, "level", d.Filter.Level, "system", d.Filter.System,
			"since", d.Filter.Since, "until", d.Filter.Until, "q", d.Filter.Q, "before", strconv.FormatInt(list[len(list)-1].ID, 10))
	}
	d.Items = list
	return d, nil
}

// intParam reads a non-negative integer parameter (0 when empty).
func intParam(s, name string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, core.Invalid("api_bad_param", "name", name, "want", "0, 1, 2, …")
	}
	return n, nil
}

// dateParam reads a YYYY-MM-DD parameter in the console's time zone: the
// day's start, or with end the next day's start (zero when empty).
func dateParam(r *Request, s, name string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, r.Location())
	if err != nil {
		return time.Time{}, core.Invalid("api_bad_param", "name", name, "want", "YYYY-MM-DD")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// incidentDetail is an incident's page: the detail the chat's /incident
// show reads, its timeline split into the parts the page shows.
type incidentDetail struct {
	incident.Detail
	Alerts, Silences, Escalations []incident.Event
}

// alertKinds are the timeline kinds written by alert ingestion.
var alertKinds = []string{"reopen", "auto_resolve", "joint", "notice"}

// incidentPage shows one incident in the view (refused outside it).
func (c *Console) incidentPage(r *Request) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, core.NotFound("incident_not_found", "id", r.PathValue("id"))
	}
	d, err := c.svc.Incidents.Show(r.Context(), r.Actor, id)
	if err != nil {
		return nil, err
	}
	i := d.Incident
	if err := r.View.Check(i.Unit, append([]string{i.DeclaredBy, i.Owner}, i.Stakeholders...)...); err != nil {
		return nil, err
	}
	out := incidentDetail{Detail: d}
	for _, e := range d.Events {
		switch {
		case e.Kind == "silence":
			out.Silences = append(out.Silences, e)
		case e.Kind == "escalate":
			out.Escalations = append(out.Escalations, e)
		case slices.Contains(alertKinds, e.Kind) || i.Source == "alertmanager" && e.Kind == "declare":
			out.Alerts = append(out.Alerts, e)
		}
	}
	return out, nil
}
