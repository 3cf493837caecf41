package console

import (
	"bytes"
	"context"
	"html/template"
	"strconv"
	"strings"

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
			Handle: func(r *Request) (any, error) { return c.overviewView(r) }},
		{Path: "/console/overview/live", Nav: NavOverview, Title: "console.overview.title", Template: "overview.html", Data: true,
			Handle: func(r *Request) (any, error) {
				d, err := c.overviewView(r)
				if err != nil {
					return nil, err
				}
				f, err := c.fragment(r, "overview.html", "live", d)
				if f != nil {
					f.Tagged = true
				}
				return f, err
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

// overviewData is the overview as its template shows it, with its long
// lists (open and joint incidents, approvals waiting, tickets overdue and
// due today) written here as list items: the live refresh renders
// hundreds of rows every few seconds, and a template evaluating and
// escaping half a dozen actions per row by reflection spent most of the
// refresh on them. Every text is escaped (template.HTMLEscapeString); the
// rest of the page stays in templates/overview.html.
type overviewData struct {
	overview.Overview
	OpenList, JointList, ApprovalList, TicketList template.HTML
}

// overviewView reads the overview and prepares it for the template.
func (c *Console) overviewView(r *Request) (overviewData, error) {
	o, err := c.overview(r)
	if err != nil {
		return overviewData{}, err
	}
	return prepareOverview(r, o), nil
}

// prepareOverview writes the overview's lists for the request with the
// text the template's helpers give (UnitName, Label, Ago, Dur, Clock,
// Link), each label and unit name looked up once.
func prepareOverview(r *Request, o overview.Overview) overviewData {
	names := make(map[string]string, len(r.Scope.Tree))
	for _, u := range r.Scope.Tree {
		if _, ok := names[u.Code]; !ok {
			names[u.Code] = u.Name
		}
	}
	unitName := func(code string) string {
		if n, ok := names[code]; ok {
			return n
		}
		return code
	}
	states := map[string]string{}
	var b strings.Builder
	list := func() template.HTML {
		out := template.HTML(b.String())
		b.Reset()
		return out
	}
	text := func(s ...string) {
		for _, x := range s {
			b.WriteString(template.HTMLEscapeString(x))
		}
	}
	// item writes "#id title", linked to its page when that page is served.
	requests, tickets := r.Registered("/console/requests/{id}"), r.Registered("/console/tickets/{id}")
	item := func(linked bool, page, n, title string) {
		if linked {
			b.WriteString(`<a href="`)
			text(r.Link(page + n))
			b.WriteString(`">`)
		}
		b.WriteString("#" + n + " ")
		text(title)
		if linked {
			b.WriteString(`</a>`)
		}
	}
	head := func(id int64, level int, title string) { // the badge and the link of an incident
		n := strconv.FormatInt(id, 10)
		lv := strconv.Itoa(level)
		b.WriteString(`<li data-id="` + n + `"><span class="badge l` + lv + `">` + lv + `</span> <a href="`)
		text(r.Link("/console/incidents/" + n))
		b.WriteString(`">#` + n + ` `)
		text(title)
		b.WriteString(`</a>`)
	}
	for _, i := range o.Open {
		st, ok := states[i.State]
		if !ok {
			st = r.Label("istate.", i.State)
			states[i.State] = st
		}
		head(i.ID, i.Level, i.Title)
		b.WriteString(` <span class="muted">`)
		if i.Unit != "" {
			text(unitName(i.Unit), " · ")
		}
		text(st, " · ", r.T("console.overview.age", "age", r.Ago(i.CreatedAt)))
		b.WriteString("</span></li>\n")
	}
	d := overviewData{Overview: o, OpenList: list()}
	for _, i := range o.Joint {
		head(i.ID, i.Level, i.Title)
		if i.System != "" {
			b.WriteString(` <span class="muted">`)
			text(i.System)
			b.WriteString(`</span>`)
		}
		b.WriteString(` <span class="muted">`)
		text(r.T("console.overview.age", "age", r.Ago(i.CreatedAt)))
		b.WriteString("</span></li>\n")
	}
	d.JointList = list()
	for _, w := range o.Approvals {
		n := strconv.FormatInt(w.Request.ID, 10)
		b.WriteString(`<li data-id="` + n + `">`)
		item(requests, "/console/requests/", n, w.Request.Title)
		b.WriteString(` <span class="muted">`)
		text(w.Request.Requester, " · ", r.T("console.overview.waiting", "age", r.Dur(w.Working)))
		b.WriteString("</span></li>\n")
	}
	d.ApprovalList = list()
	for _, t := range o.Overdue {
		n := strconv.FormatInt(t.ID, 10)
		b.WriteString(`<li data-id="` + n + `" class="over">`)
		item(tickets, "/console/tickets/", n, t.Title)
		b.WriteString(` <span class="muted">`)
		text(unitName(t.Unit))
		b.WriteString("</span></li>")
	}
	b.WriteString("\n")
	for _, t := range o.DueToday {
		n := strconv.FormatInt(t.ID, 10)
		b.WriteString(`<li data-id="` + n + `">`)
		item(tickets, "/console/tickets/", n, t.Title)
		b.WriteString(` <span class="muted">`)
		text(unitName(t.Unit), " · ", r.Clock(t.DueAt))
		b.WriteString("</span></li>")
	}
	d.TicketList = list()
	return d
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
