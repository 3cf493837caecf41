package bot

import (
	"net/url"
	"strings"
)

// ConsolePath is the console page of the entity a card describes (its
// Ref), and false when the console has no page for it: an incident's,
// a ticket's or a request's own page, the reports page at a monthly
// report, the trends at a digest.
func ConsolePath(ref string) (string, bool) {
	kind, key, ok := strings.Cut(ref, ":")
	if !ok || key == "" {
		return "", false
	}
	switch kind {
	case "incident":
		return "/console/incidents/" + url.PathEscape(key), true
	case "ticket":
		return "/console/tickets/" + url.PathEscape(key), true
	case "request":
		// request:42#2 is the card of the request's second step.
		id, _, _ := strings.Cut(key, "#")
		return "/console/requests/" + url.PathEscape(id), true
	case "report", "backup-audit":
		// report:incidents:2026-11, backup-audit:2026-11
		month := key
		if kind == "report" {
			_, month, _ = strings.Cut(key, ":")
		}
		if month == "" {
			return "/console/reports", true
		}
		return "/console/reports?month=" + url.QueryEscape(month), true
	case "digest":
		return "/console/trends", true
	}
	return "", false
}

// ConsoleLink is the absolute console address of ref under base (the
// console's public URL), and "" when base is empty or there is no page.
func ConsoleLink(base, ref string) string {
	p, ok := ConsolePath(ref)
	if base == "" || !ok {
		return ""
	}
	return strings.TrimRight(base, "/") + p
}

// withLink adds the console link of m's entity as its last field, when
// the console's public URL is configured and the card is not an error.
func (b *Bot) withLink(m Message) Message {
	if m.Status == StatusError {
		return m
	}
	link := ConsoleLink(b.cfg.ConsoleURL, m.Ref)
	if link == "" {
		return m
	}
	for _, f := range m.Fields {
		if f.Value == link {
			return m
		}
	}
	m.Fields = append(append([]Field(nil), m.Fields...), Field{Name: b.t("console.link"), Value: link})
	return m
}
