package console

import (
	"bytes"
	"context"

	"opsbot/core"
	"opsbot/core/org"
	"opsbot/core/overview"
)

// Overviews computes the overview (overview.Service).
type Overviews interface {
	Read(ctx context.Context, actor core.Actor, view org.View) (overview.Overview, error)
}

// overviewPages are the overview, its live fragment and its JSON.
func (c *Console) overviewPages() []Page {
	if c.svc.Overview == nil {
		return nil
	}
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

// overview reads the overview inside the view.
func (c *Console) overview(r *Request) (overview.Overview, error) {
	return c.svc.Overview.Read(r.Context(), r.Actor, r.View)
}

// fragment renders template name of page file tmpl with the layout's
// helpers around data, as an HTML fragment (a live refresh).
func (c *Console) fragment(r *Request, tmpl, name string, data any) (*Download, error) {
	var buf bytes.Buffer
	l := &Layout{Request: r, Data: data, Refresh: int(c.cfg.Refresh.Milliseconds())}
	if err := c.tmpl[tmpl].ExecuteTemplate(&buf, name, l); err != nil {
		return nil, err
	}
	return &Download{ContentType: "text/html; charset=utf-8", Body: buf.Bytes()}, nil
}
