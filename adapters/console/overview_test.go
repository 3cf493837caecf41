package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/approval"
	"opsbot/core/incident"
	"opsbot/core/org"
	"opsbot/core/overview"
	"opsbot/core/ticket"
)

// fakeOverviews answers a fixed overview (changed by the test).
type fakeOverviews struct{ o overview.Overview }

// fixedClock is a clock stopped at t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func (f *fakeOverviews) Read(context.Context, core.Actor, org.View) (overview.Overview, error) {
	return f.o, nil
}

// TestOverviewLive: the live fragment lists every row with its text
// escaped and the unit's name, carries an ETag, answers 304 with no body
// while nothing changed and 200 with a new tag once something did.
func TestOverviewLive(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	ov := &fakeOverviews{o: overview.Overview{At: now,
		Open:      []incident.Incident{{ID: 7, Title: `门户 <script>x</script>`, Level: 2, State: incident.StateDeclared, Unit: "edu", CreatedAt: now.Add(-90 * time.Minute)}},
		ByLevel:   [4]int{0, 1, 0, 0},
		Approvals: []overview.Waiting{{Request: approval.Request{ID: 3, Title: "开通 & 授权", Requester: "wang"}, Working: 2 * time.Hour}},
		Overdue:   []ticket.Ticket{{ID: 11, Title: "超期工单", Unit: "east"}},
		DueToday:  []ticket.Ticket{{ID: 12, Title: "今日工单", Unit: "nowhere", DueAt: now.Add(3 * time.Hour)}},
	}}
	c, err := New(Config{Location: now.Location()}, Services{Auth: fakeAuth{}, Views: fakeViews{}, Overview: ov, Clock: fixedClock{now}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	c.Routes(mux)

	w := get(mux, "/console/overview/live?unit=edu", "zhang")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	require.Contains(t, body, `<li data-id="7"><span class="badge l2">2</span> <a href="/console/incidents/7?unit=edu">#7 门户 &lt;script&gt;x&lt;/script&gt;</a> <span class="muted">教育局 · `)
	require.Contains(t, body, `1小时30分钟`)
	require.Contains(t, body, `<li data-id="3">#3 开通 &amp; 授权 <span class="muted">wang · `)
	require.Contains(t, body, `<li data-id="11" class="over">#11 超期工单 <span class="muted">东区</span></li>`)
	require.Contains(t, body, `<li data-id="12">#12 今日工单 <span class="muted">nowhere · 12:00</span></li>`)
	require.NotContains(t, body, "<script>")
	tag := w.Header().Get("ETag")
	require.NotEmpty(t, tag)
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	w = get(mux, "/console/overview/live?unit=edu", "zhang", "If-None-Match", tag)
	require.Equal(t, http.StatusNotModified, w.Code, "unchanged: 304")
	require.Empty(t, w.Body.String())

	ov.o.Overdue = nil
	w = get(mux, "/console/overview/live?unit=edu", "zhang", "If-None-Match", tag)
	require.Equal(t, http.StatusOK, w.Code, "changed: the new fragment")
	require.NotContains(t, w.Body.String(), `data-id="11"`)
	require.NotEqual(t, tag, w.Header().Get("ETag"))

	page := get(mux, "/console/", "zhang").Body.String()
	require.Contains(t, page, `<li data-id="7">`, "the page shows the same lists")
}
