package console

import (
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"opsbot/bot"
)

// Layout is what templates/layout.html renders: the header (who signed
// in, sign-out), the navigation, the unit filter and the page's content
// ("content" of the page's template, which reads the handler's value as
// .Data and the helpers below through $).
type Layout struct {
	*Request
	Page  Page
	Data  any
	Title string
	// CSRF is the session's CSRF token for the sign-out form ("" for a
	// bearer token).
	CSRF string
	// Refresh is the overview's refresh interval in milliseconds.
	Refresh int
}

// NavItem is one entry of the navigation bar.
type NavItem struct {
	Key, Href, Label string
	Active           bool
}

// Nav lists the navigation bar: the entries whose page is registered.
func (l *Layout) Nav() []NavItem {
	var out []NavItem
	for _, n := range navOrder {
		if !l.c.registered(n[1]) {
			continue
		}
		out = append(out, NavItem{Key: n[0], Href: l.Link(n[1]), Label: l.T("console.nav." + n[0]), Active: l.Page.Nav == n[0]})
	}
	return out
}

// registered reports whether a page serves path.
func (c *Console) registered(path string) bool {
	for _, p := range c.pages {
		if p.Path == path || path == "/console/" && p.Path == "/console/{$}" {
			return true
		}
	}
	return false
}

// UnitOption is one choice of the unit filter.
type UnitOption struct {
	Code, Label string
	Selected    bool
}

// Units lists the unit filter's choices: every unit of the scope,
// indented by depth. Empty for a view of own items (no filter).
func (l *Layout) Units() []UnitOption {
	if len(l.Scope.Tree) == 0 {
		return nil
	}
	top := strings.Count(l.Scope.Tree[0].Path, "/")
	out := make([]UnitOption, 0, len(l.Scope.Tree))
	for _, u := range l.Scope.Tree {
		depth := max(0, strings.Count(u.Path, "/")-top)
		out = append(out, UnitOption{Code: u.Code, Label: strings.Repeat("　", depth) + u.Name, Selected: u.Code == l.Unit})
	}
	return out
}

// Kept is the page's other query parameters (the report, the month, the
// filters), carried as hidden fields by the unit filter's form so that
// picking a unit keeps them; the unit itself and the paging cursor are not.
func (l *Layout) Kept() []QueryPair {
	var out []QueryPair
	q := l.URL.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k == "unit" || k == "cursor" {
			continue
		}
		for _, v := range q[k] {
			out = append(out, QueryPair{Name: k, Value: v})
		}
	}
	return out
}

// QueryPair is one query parameter.
type QueryPair struct{ Name, Value string }

// ScopeLabel names the whole scope ("全部（管辖单位）").
func (l *Layout) ScopeLabel() string {
	return l.T("console.unit_all", "scope", l.T("console.scope."+l.Scope.Basis))
}

// HTMLLang is the page's language attribute.
func (l *Layout) HTMLLang() string {
	if l.Lang == bot.LangEN {
		return "en"
	}
	return "zh-CN"
}

// Link returns path with the unit filter kept (and extra query pairs).
func (r *Request) Link(path string, kv ...string) string {
	q := url.Values{}
	if r.Unit != "" {
		q.Set("unit", r.Unit)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Time shows t as "2006-01-02 15:04" in the console's time zone ("" for
// a zero time).
func (r *Request) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(r.Location()).Format("2006-01-02 15:04")
}

// TimeP is Time of a pointer ("" for nil).
func (r *Request) TimeP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return r.Time(*t)
}

// Clock shows t as "15:04" when it is today, else as Time.
func (r *Request) Clock(t time.Time) string {
	loc := r.Location()
	if t.In(loc).Format("2006-01-02") == r.Now().In(loc).Format("2006-01-02") {
		return t.In(loc).Format("15:04")
	}
	return r.Time(t)
}

// Dur shows a duration in days, hours and minutes in the request's
// language ("1天2小时", "1d 2h"); negative durations show their size.
func (r *Request) Dur(d time.Duration) string { return bot.FormatDuration(r.Lang, d) }

// Ago is Dur of the time since t.
func (r *Request) Ago(t time.Time) string { return bot.FormatDuration(r.Lang, r.Now().Sub(t)) }

// UnitName is a unit's name in the scope's tree (the code when unknown).
func (r *Request) UnitName(code string) string {
	for _, u := range r.Scope.Tree {
		if u.Code == code {
			return u.Name
		}
	}
	return code
}

// funcs are the template functions that need no request.
var funcs = template.FuncMap{
	"join":   strings.Join,
	"add":    func(a, b int) int { return a + b },
	"levels": func() []int { return []int{1, 2, 3, 4} },
}

// Label is the catalog text of prefix+value ("istate.", "declared"), the
// value itself when the catalog has none.
func (r *Request) Label(prefix, value string) string {
	key := prefix + value
	if s := r.T(key); s != key {
		return s
	}
	return value
}

// Level is an incident level's name ("Ⅱ级（重大）").
func (r *Request) Level(n int) string { return r.Label("level.n", fmt.Sprint(n)) }

// Registered reports whether a page serves path (a link to a page
// another helper adds shows only once it is there).
func (r *Request) Registered(path string) bool { return r.c.registered(path) }
