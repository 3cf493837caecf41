// Package pageack serves the one-time acknowledge links of e-mail and
// webhook pages: GET /page/ack/<token> shows a confirm page and changes
// nothing (mail scanners prefetch links); POST acknowledges, once.
package pageack

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"opsbot/adapters/server"
	"opsbot/core/paging"
)

// Path is where the links point.
const Path = "/page/ack/"

// Config is what the handler needs besides the acknowledger.
type Config struct {
	// Text renders a text of the page ("title", "confirm", "button",
	// "done") in lang (zh-CN or en).
	Text func(lang, key string) string
	// Explain turns a refusal into a sentence in lang.
	Explain func(lang string, err error) string
}

// Handler serves Path.
type Handler struct {
	cfg   Config
	acker paging.Acker
	log   *slog.Logger
}

// New returns the handler.
func New(cfg Config, acker paging.Acker, log *slog.Logger) *Handler {
	return &Handler{cfg: cfg, acker: acker, log: log}
}

// Routes registers the handler.
func (h *Handler) Routes(mux *http.ServeMux) { mux.Handle(Path, h) }

var page = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
<h1>{{.Title}}</h1><p id="message">{{.Message}}</p>
{{if .Form}}<form method="post"><button type="submit" id="ack">{{.Button}}</button></form>{{end}}
</body></html>`))

// lang picks zh-CN unless the browser prefers English.
func lang(r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == "en" || q == "zh-CN" {
		return q
	}
	al := strings.ToLower(r.Header.Get("Accept-Language"))
	if strings.HasPrefix(al, "en") {
		return "en"
	}
	return "zh-CN"
}

// ServeHTTP shows the confirm page (GET) or acknowledges (POST).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	token := strings.TrimPrefix(r.URL.Path, Path)
	l := lang(r)
	data := struct {
		Lang, Title, Message, Button string
		Form                         bool
	}{Lang: l, Title: h.cfg.Text(l, "title"), Button: h.cfg.Text(l, "button")}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		data.Message, data.Form = h.cfg.Text(l, "confirm"), token != ""
	case http.MethodPost:
		if err := h.acker.AckLink(context.WithoutCancel(r.Context()), token); err != nil {
			status := server.StatusOf(err)
			if status == http.StatusInternalServerError {
				h.log.Error("page ack link failed", "err", err)
			} else {
				h.log.Info("page ack link refused", "err", err)
			}
			w.WriteHeader(status)
			data.Message = h.cfg.Explain(l, err)
		} else {
			data.Message = h.cfg.Text(l, "done")
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	_ = page.Execute(w, data)
}
