package ical_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/ical"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/duty"
	"opsbot/core/org"
)

var cst = time.FixedZone("CST", 8*3600)

// fakeCals answers one secret.
type fakeCals map[string]duty.FeedCalendar

func (f fakeCals) Calendar(_ context.Context, secret string) (duty.FeedCalendar, error) {
	c, ok := f[secret]
	if !ok {
		return c, core.NotFound("feed_not_found", "id", "")
	}
	return c, nil
}

func handler(lang string, cals fakeCals) *ical.Handler {
	text := func(k string, kv ...string) string { return bot.T(lang, k, kv...) }
	return ical.New(ical.Config{Text: text}, cals, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func get(t *testing.T, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(ical.Path, h)
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

func calendar() duty.FeedCalendar {
	start := time.Date(2026, 9, 30, 9, 0, 0, 0, cst)
	mod := time.Date(2026, 9, 15, 10, 0, 0, 0, cst)
	long := "一段很长的名字，含逗号;分号\\反斜杠，还有更多的中文字符让这一行超过七十五个字节的限制"
	return duty.FeedCalendar{
		Feed:  duty.Feed{ID: 3, UserID: "sunli", Rotation: "ops-oncall"},
		Owner: org.User{ID: "sunli", Name: "孙丽"},
		From:  start.AddDate(0, 0, -30), To: start.AddDate(0, 0, 90),
		Shifts: []duty.FeedShift{
			{Rotation: "ops-oncall", Shift: duty.Shift{Primary: "sunli", Secondary: "zhoujie", Start: start, End: start.AddDate(0, 0, 8)},
				PrimaryName: "孙丽", SecondaryName: "周杰", Modified: mod},
			{Rotation: "ops-oncall", Shift: duty.Shift{Primary: "zhoujie", Secondary: "sunli", Start: start.AddDate(0, 0, 8), End: start.AddDate(0, 0, 9), Override: true},
				PrimaryName: long, SecondaryName: "孙丽", Modified: mod.Add(time.Hour)},
		},
	}
}

// TestFeedParses: the feed is an RFC 5545 calendar a parser reads back:
// its name, one event a shift with a stable UID, UTC start and end equal
// to the shift's, the summary "值班：<rotation> <name>", LAST-MODIFIED,
// escaped and folded text; CRLF lines of at most 75 octets.
func TestFeedParses(t *testing.T) {
	t.Parallel()
	w := get(t, handler("zh-CN", fakeCals{"s3cret": calendar()}), "/ical/s3cret.ics")
	require.Equal(t, 200, w.Code)
	require.Equal(t, "text/calendar; charset=utf-8", w.Header().Get("Content-Type"))
	require.Equal(t, "private, no-cache", w.Header().Get("Cache-Control"))
	require.NotEmpty(t, w.Header().Get("ETag"))
	body := w.Body.String()
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		require.LessOrEqual(t, len(line), 75, line)
		require.NotContains(t, line, "\n")
	}
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	require.NoError(t, err)
	props := map[string]string{}
	for _, p := range cal.CalendarProperties {
		props[p.IANAToken] = p.Value
	}
	require.Equal(t, "值班：ops-oncall", props["X-WR-CALNAME"])
	require.Equal(t, "2.0", props["VERSION"])
	require.Equal(t, "PT60M", props["X-PUBLISHED-TTL"])
	evs := cal.Events()
	require.Len(t, evs, 2)
	want := calendar()
	for i, ev := range evs {
		s := want.Shifts[i]
		start, err := ev.GetStartAt()
		require.NoError(t, err)
		end, err := ev.GetEndAt()
		require.NoError(t, err)
		require.True(t, start.Equal(s.Shift.Start), "%s ≠ %s", start, s.Shift.Start)
		require.True(t, end.Equal(s.Shift.End))
		require.Equal(t, "值班：ops-oncall "+s.PrimaryName, ev.GetProperty(ics.ComponentPropertySummary).Value)
		require.Equal(t, s.Modified.UTC().Format("20060102T150405Z"), ev.GetProperty(ics.ComponentPropertyLastModified).Value)
		require.Equal(t, "duty-ops-oncall-"+s.Shift.Start.UTC().Format("20060102T150405Z")+"@opsbot", ev.Id())
	}
	require.Contains(t, evs[1].GetProperty(ics.ComponentPropertyDescription).Value, "调班")
	require.Contains(t, body, "DTSTART:20260930T010000Z", "09:00 in Beijing is 01:00 UTC")

	// English, and "my shifts" (its own UIDs and name).
	mine := calendar()
	mine.Feed.Rotation = ""
	w = get(t, handler("en", fakeCals{"m": mine}), "/ical/m.ics")
	cal, err = ics.ParseCalendar(strings.NewReader(w.Body.String()))
	require.NoError(t, err)
	require.Contains(t, w.Body.String(), "X-WR-CALNAME:My duty shifts: 孙丽")
	require.Equal(t, "On duty: ops-oncall 孙丽", cal.Events()[0].GetProperty(ics.ComponentPropertySummary).Value)
	require.True(t, strings.HasSuffix(cal.Events()[0].Id(), "-mine@opsbot"))
}

// TestFeedAnswers: an unknown secret or a path without .ics is 404 at
// once and never cached; a client holding the current ETag gets 304.
func TestFeedAnswers(t *testing.T) {
	t.Parallel()
	h := handler("zh-CN", fakeCals{"s3cret": calendar()})
	for _, p := range []string{"/ical/nope.ics", "/ical/s3cret", "/ical/s3cret.ics.txt"} {
		w := get(t, h, p)
		require.Equal(t, 404, w.Code, p)
		require.Equal(t, "no-store", w.Header().Get("Cache-Control"), p)
	}
	w := get(t, h, "/ical/s3cret.ics")
	etag := w.Header().Get("ETag")
	again := get(t, h, "/ical/s3cret.ics", "If-None-Match", etag)
	require.Equal(t, 304, again.Code)
	require.Empty(t, again.Body.Bytes())
	require.True(t, bytes.Equal(w.Body.Bytes(), get(t, h, "/ical/s3cret.ics").Body.Bytes()), "the same shifts, the same bytes")
}
