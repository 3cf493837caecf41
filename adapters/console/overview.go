package console

import (
	"bytes"

	"opsbot/core/incident"
)

// overviewPages are the overview, its live fragment and its JSON.
func (c *Console) overviewPages() []Page {
	return []Page{
		{Path: "/console/{$}", Nav: NavOverview, Title: "console.overview.title", Template: "overview.html",
			Handle: func(r *Request) (any, error) { return c.overview(r) }},
		{Path: "/console/overview/live", Nav: NavOverview, Title: "console.overview.title", Template: "overview.html", Data: true,
			Handle: func(r *Request) (any, error) {
				d, err := c.overview(r)
				if err != nil {
					return nil, err
				}
				return c.fragment(r, "overview.html", "live", d)
			}},
		{Path: "/console/overview.json", Nav: NavOverview, Title: "console.overview.title", Data: true,
			Handle: func(r *Request) (any, error) {
				d, err := c.overview(r)
				if err != nil {
					return nil, err
				}
				return JSON{d}, nil
			}},
	}
}

// overviewData is the overview.
type overviewData struct {
	Incidents []incident.Incident `json:"incidents"`
	ByLevel   [4]int              `json:"by_level"`
}

// overview reads the overview inside the view.
func (c *Console) overview(r *Request) (*overviewData, error) {
	d := &overviewData{}
	if c.svc.Incidents != nil {
		list, err := c.svc.Incidents.Query(r.Context(), r.Actor, incident.Filter{State: incident.StateOpen, View: &r.View, Limit: incident.MaxQuery})
		if err != nil {
			return nil, err
		}
		d.Incidents = list
		for _, i := range list {
			if i.Level >= 1 && i.Level <= 4 {
				d.ByLevel[i.Level-1]++
			}
		}
	}
	return d, nil
}

// fragment renders template name of page file tmpl with the layout's
// helpers around data, as an HTML fragment (a live refresh).
func (c *Console) fragment(r *Request, tmpl, name string, data any) (*Download, error) {
	var buf bytes.Buffer
	l := &Layout{Request: r, Data: data}
	if err := c.tmpl[tmpl].ExecuteTemplate(&buf, name, l); err != nil {
		return nil, err
	}
	return &Download{ContentType: "text/html; charset=utf-8", Body: buf.Bytes()}, nil
}
