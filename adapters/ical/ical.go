// Package ical serves the iCal subscription feeds of duty shifts,
// GET /ical/{secret}.ics: an RFC 5545 VCALENDAR that Outlook, Google
// Calendar and Apple Calendar subscribe to. The secret in the URL is the
// only credential (calendar apps send no other); core/duty keeps its hash
// and tells which shifts it stands for. Times are written in UTC (a
// trailing Z), which every calendar app shows in the viewer's own zone,
// so a 09:00 Asia/Shanghai handover shows at 09:00 in Beijing.
package ical

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/duty"
)

// Calendars reads what a feed secret stands for (core/duty.Feeds).
type Calendars interface {
	Calendar(ctx context.Context, secret string) (duty.FeedCalendar, error)
}

// Text renders a catalog text in the bot's language (bot.T).
type Text func(key string, kv ...string) string

// Config is the feed handler's settings.
type Config struct {
	// Text renders the calendar's names and the events' summaries.
	Text Text
	// Refresh is how often calendar apps are asked to poll
	// (REFRESH-INTERVAL, X-PUBLISHED-TTL; default one hour).
	Refresh time.Duration
}

// Handler serves GET /ical/{secret}.ics.
type Handler struct {
	cfg  Config
	cals Calendars
	log  *slog.Logger
}

// New returns the feed handler.
func New(cfg Config, cals Calendars, logger *slog.Logger) *Handler {
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Hour
	}
	return &Handler{cfg: cfg, cals: cals, log: logger.With("component", "ical")}
}

// Path is the route's pattern; the secret is the file name.
const Path = "GET /ical/{file}"

// Routes registers the feed route on mux.
func (h *Handler) Routes(mux *http.ServeMux) { mux.Handle(Path, h) }

// ServeHTTP answers a feed: the calendar, 304 when the client's ETag
// still matches, or 404 at once for an unknown or revoked secret.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store") // until a calendar is known
	secret, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		http.NotFound(w, r)
		return
	}
	cal, err := h.cals.Calendar(r.Context(), secret)
	if errors.Is(err, core.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.log.Error("ical feed failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	body := h.Render(cal)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	// Private: the URL is a secret. no-cache: every poll asks again, so a
	// revoked feed stops at once; an unchanged one costs a 304.
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="duty.ics"`)
	_, _ = w.Write(body)
}

// utc formats a time as an iCalendar UTC date-time.
func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// Render writes cal as an iCalendar object: one VEVENT a shift, its UID
// stable across swaps (the rotation, the shift's start and the feed's
// kind), so calendar apps update an event rather than add another.
func (h *Handler) Render(cal duty.FeedCalendar) []byte {
	t := h.cfg.Text
	var b writer
	b.line("BEGIN:VCALENDAR")
	b.line("VERSION:2.0")
	b.line("PRODID:-//opsbot//duty calendar//ZH")
	b.line("CALSCALE:GREGORIAN")
	b.line("METHOD:PUBLISH")
	name := t("ical.name.rotation", "rotation", cal.Feed.Rotation)
	kind := ""
	if cal.Feed.Mine() {
		name, kind = t("ical.name.mine", "name", cal.Owner.Name), "-mine"
	}
	b.prop("X-WR-CALNAME", name)
	b.prop("X-WR-CALDESC", t("ical.desc", "from", cal.From.Format(time.DateOnly), "to", cal.To.Format(time.DateOnly)))
	ttl := "PT" + strconv.Itoa(max(int(h.cfg.Refresh/time.Minute), 1)) + "M"
	b.line("REFRESH-INTERVAL;VALUE=DURATION:" + ttl)
	b.line("X-PUBLISHED-TTL:" + ttl)
	for _, s := range cal.Shifts {
		b.line("BEGIN:VEVENT")
		b.line("UID:duty-" + s.Rotation + "-" + utc(s.Shift.Start) + kind + "@opsbot")
		b.line("DTSTAMP:" + utc(s.Modified))
		b.line("LAST-MODIFIED:" + utc(s.Modified))
		b.line("DTSTART:" + utc(s.Shift.Start))
		b.line("DTEND:" + utc(s.Shift.End))
		b.prop("SUMMARY", t("ical.summary", "rotation", s.Rotation, "name", s.PrimaryName))
		desc := t("ical.description", "primary", s.PrimaryName, "primary_id", s.Shift.Primary,
			"secondary", s.SecondaryName, "secondary_id", s.Shift.Secondary)
		if s.Shift.Override {
			desc += "\n" + t("ical.swapped")
		}
		b.prop("DESCRIPTION", desc)
		if s.Shift.Override {
			b.prop("CATEGORIES", t("ical.swapped"))
		}
		b.line("TRANSP:TRANSPARENT") // on call is not busy: meetings may still be booked
		b.line("STATUS:CONFIRMED")
		b.line("END:VEVENT")
	}
	b.line("END:VCALENDAR")
	return b.buf
}

// writer builds CRLF-ended content lines folded at 75 octets.
type writer struct{ buf []byte }

// prop writes a property with a TEXT value, escaped.
func (w *writer) prop(name, value string) {
	w.line(name + ":" + escape(value))
}

// escape escapes a TEXT value (RFC 5545 §3.3.11).
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// line writes one content line, folded (RFC 5545 §3.1): no line longer
// than 75 octets, never splitting a UTF-8 character.
func (w *writer) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && s[cut]&0xC0 == 0x80 { // inside a multi-byte character
			cut--
		}
		w.buf = append(w.buf, s[:cut]...)
		w.buf = append(w.buf, "\r\n "...)
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, "\r\n"...)
}
