package alert_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
)

var cst = fakestore.CST

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, cst)

func world(t *testing.T) *fakestore.World {
	t.Helper()
	w := fakestore.NewWorld(t0, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.AddUser("city", "zhangsan", "lisi", "admin", "op", "portal-team")
	w.Tx.Grant("admin", org.RoleSysAdmin, "city")
	w.Tx.Grant("op", org.RoleOperator, "city")
	w.Tx.Grant("portal-team", org.RoleAccessParty, "portal")
	w.Tx.Apps["portal"] = org.App{Code: "portal", Name: "门户网站"}
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "city", Members: []string{"zhangsan", "lisi"}, Every: "day",
		Handover: "09:00", StartDate: t0}
	return w
}

func group(status string, labels map[string]string, alerts ...alert.Alert) alert.Group {
	g := alert.Group{Receiver: "opsbot", GroupKey: "{}:{alertname=\"Down\"}", Status: status, GroupLabels: map[string]string{"alertname": "Down"},
		CommonLabels: labels, Alerts: alerts}
	return g
}

func firing(fp string, since time.Time, labels map[string]string) alert.Alert {
	return alert.Alert{Fingerprint: fp, Status: "firing", Labels: labels, StartsAt: since}
}

func resolved(fp string) alert.Alert { return alert.Alert{Fingerprint: fp, Status: "resolved"} }

// TestGroupToIncident (W 9.2, M 7.3.2): a group's first firing post opens
// one incident (level from severity, system from the app label, the
// on-call paged and the channel told), repeated posts update it, a
// resolved post auto-resolves it; firing again within the reopen window
// reopens it, after the window opens a new one.
func TestGroupToIncident(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	labels := map[string]string{"alertname": "Down", "severity": "critical", "app": "portal"}
	steps := []struct {
		name   string
		after  time.Duration
		g      alert.Group
		want   alert.IngestResult
		state  string
		events []string
	}{
		{"resolved with no incident is ignored", 0, group("resolved", labels, resolved("a")), alert.IngestResult{Ignored: true}, "", nil},
		{"first firing post opens an incident", time.Minute, group("firing", labels, firing("a", t0, labels)),
			alert.IngestResult{IncidentID: 1, Created: true}, incident.StateDeclared, []string{"declare"}},
		{"the same post again changes nothing", 2 * time.Minute, group("firing", labels, firing("a", t0, labels)),
			alert.IngestResult{IncidentID: 1}, incident.StateDeclared, []string{"declare"}},
		{"all resolved auto-resolves", 10 * time.Minute, group("resolved", labels, resolved("a")),
			alert.IngestResult{IncidentID: 1, Resolved: true}, incident.StateResolved, []string{"declare", "auto_resolve"}},
		{"firing within 30 min reopens", 39 * time.Minute, group("firing", labels, firing("a", t0, labels)),
			alert.IngestResult{IncidentID: 1, Reopened: true}, incident.StateDeclared, []string{"declare", "auto_resolve", "reopen"}},
		{"resolved again", 50 * time.Minute, group("resolved", labels, resolved("a")),
			alert.IngestResult{IncidentID: 1, Resolved: true}, incident.StateResolved, []string{"declare", "auto_resolve", "reopen", "auto_resolve"}},
		{"firing after 30 min opens a new incident", 81 * time.Minute, group("firing", labels, firing("a", t0, labels)),
			alert.IngestResult{IncidentID: 2, Created: true}, incident.StateDeclared, []string{"declare"}},
	}
	for _, st := range steps {
		w.Tx.Reset()
		w.Clock.T = t0.Add(st.after)
		res, err := w.Alerts.Ingest(ctx, st.g)
		require.NoError(t, err, st.name)
		require.Equal(t, st.want, res, st.name)
		if res.IncidentID == 0 {
			continue
		}
		i, err := w.Tx.Incident(ctx, res.IncidentID, false)
		require.NoError(t, err)
		require.Equal(t, st.state, i.State, st.name)
		require.Equal(t, st.events, w.Tx.EventKinds(i.ID), st.name)
		switch {
		case res.Created || res.Reopened:
			require.Equal(t, []string{"user:zhangsan|" + i.CardRef(), "channel:ops-room|" + i.CardRef()}, w.Tx.Sent("incident.card"), st.name)
			c := w.Tx.Payloads("incident.card")[0].(incident.Card)
			require.Equal(t, &incident.AlertState{Firing: 1, Labels: map[string]string{"alertname": "Down"},
				Alerts: []incident.AlertItem{{Name: "Down", StartsAt: t0}}}, c.Alert)
			require.Equal(t, 2, i.Level, "critical is level 2")
			require.Equal(t, "portal", i.System)
			require.NotEmpty(t, w.Tx.PendingTimers(i.Ref(), incident.TimerEscalation), "its clocks run")
		case res.Resolved:
			require.Equal(t, []string{"user:|" + i.CardRef()}, w.Tx.Sent("update.incident"), st.name)
			require.Empty(t, w.Tx.PendingTimers(i.Ref(), ""), "resolving stops every clock")
			require.Equal(t, "Alertmanager: all alerts resolved", i.Summary)
		default:
			require.Empty(t, w.Tx.Sent("incident.card"), st.name)
		}
	}
}

// TestCardShowsFirstAlerts: an alert incident's card carries its first
// MaxCardAlerts firing alerts by start (description, or summary; the
// runbook_url or runbook annotation; the generator link) and how many it
// leaves out, the same from the notification and from the store (a
// coalesced update); with none firing, its resolved alerts.
func TestCardShowsFirstAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	labels := map[string]string{"alertname": "Down"}
	al := func(fp string, min int, ann map[string]string) alert.Alert {
		a := firing(fp, t0.Add(time.Duration(min)*time.Minute), labels)
		a.Annotations, a.GeneratorURL = ann, "http://prom:9090/graph?fp="+fp
		return a
	}
	alerts := []alert.Alert{
		al("e", 5, nil),
		al("b", 2, map[string]string{"summary": "门户慢", "runbook": "https://wiki/b"}),
		al("a", 1, map[string]string{"description": "门户不可用", "summary": "门户", "runbook_url": "https://wiki/a", "runbook": "x"}),
		al("d", 4, nil),
		al("c", 3, nil),
		{Fingerprint: "z", Status: "resolved", Labels: labels, StartsAt: t0.Add(-time.Hour)},
	}
	want := []incident.AlertItem{
		{Name: "Down", Description: "门户不可用", StartsAt: t0.Add(time.Minute), GeneratorURL: "http://prom:9090/graph?fp=a", Runbook: "https://wiki/a"},
		{Name: "Down", Description: "门户慢", StartsAt: t0.Add(2 * time.Minute), GeneratorURL: "http://prom:9090/graph?fp=b", Runbook: "https://wiki/b"},
		{Name: "Down", StartsAt: t0.Add(3 * time.Minute), GeneratorURL: "http://prom:9090/graph?fp=c"},
	}
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, alerts...))
	require.NoError(t, err)
	c := w.Tx.Payloads("incident.card")[0].(incident.Card)
	require.Equal(t, want, c.Alert.Alerts)
	require.Equal(t, 2, c.Alert.More, "5 firing, 3 shown")

	// A coalesced update reads the alerts back from the store.
	w.Tx.Reset()
	w.Clock.Add(10 * time.Second)
	_, err = w.Alerts.Ingest(ctx, group("firing", labels, alerts[:5]...))
	require.NoError(t, err)
	w.Clock.T = t0.Add(30 * time.Second)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	u := w.Tx.Payloads("update.incident")[0].(incident.CardUpdate)
	require.Equal(t, want, u.Alert.Alerts)
	require.Equal(t, 2, u.Alert.More)

	// All resolved: the card shows resolved alerts, not an empty list.
	w.Tx.Reset()
	w.Clock.Add(time.Minute)
	var gone []alert.Alert
	for _, a := range alerts {
		a.Status = "resolved"
		gone = append(gone, a)
	}
	_, err = w.Alerts.Ingest(ctx, group("resolved", labels, gone...))
	require.NoError(t, err)
	u = w.Tx.Payloads("update.incident")[0].(incident.CardUpdate)
	require.Len(t, u.Alert.Alerts, 3)
	require.Equal(t, t0.Add(-time.Hour), u.Alert.Alerts[0].StartsAt, "the earliest resolved first")
	require.Equal(t, 3, u.Alert.More, "6 resolved, 3 shown")
}

// TestUpdatesCoalesce: card updates go out at most once per UpdateEvery;
// one in between is deferred to a timer.
func TestUpdatesCoalesce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	labels := map[string]string{"alertname": "Down"}
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)
	w.Tx.Reset()
	w.Clock.Add(10 * time.Second)
	_, err = w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels), firing("b", t0, labels)))
	require.NoError(t, err)
	require.Empty(t, w.Tx.Sent("update.incident"))
	flush := w.Tx.PendingTimers("incident:1", alert.TimerFlush)
	require.Len(t, flush, 1)
	require.Equal(t, t0.Add(30*time.Second), flush[0].DueAt)
	w.Clock.T = t0.Add(30 * time.Second)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Len(t, w.Tx.Sent("update.incident"), 1)
	require.Equal(t, 2, w.Tx.Payloads("update.incident")[0].(incident.CardUpdate).Alert.Firing)
}

// TestNon200Rule (M 7.3.3): an HTTP-availability alert firing over 10
// minutes pages the app's access party and the operators and drafts an
// outage notice for the sys admins; its recovery drafts a recovery
// notice; a sys admin publishes to the channel, once.
func TestNon200Rule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	labels := map[string]string{"alertname": "Down", "app": "portal", "kind": "http_status"}
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
	require.NoError(t, err)
	w.Clock.T = t0.Add(10*time.Minute - time.Second)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Empty(t, w.Tx.Sent("incident.notice_draft"))
	w.Tx.Reset()
	w.Clock.T = t0.Add(10 * time.Minute)
	_, err = w.Fire(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"user:portal-team|incident:1#card", "user:op|incident:1#card"}, w.Tx.Sent("incident.card"))
	require.Equal(t, []string{"user:admin|incident:1#notice:outage"}, w.Tx.Sent("incident.notice_draft"))
	d := w.Tx.Payloads("incident.notice_draft")[0].(alert.NoticeDraft)
	require.Equal(t, "门户网站", d.AppName)
	require.Equal(t, t0, d.Since.In(cst))
	require.True(t, w.Tx.Groups[group("", nil).GroupKey].Joint)

	w.Tx.Reset()
	w.Clock.Add(time.Minute)
	res, err := w.Alerts.Ingest(ctx, group("resolved", labels, resolved("a")))
	require.NoError(t, err)
	require.True(t, res.Resolved)
	require.Equal(t, []string{"user:admin|incident:1#notice:recovery"}, w.Tx.Sent("incident.notice_draft"))

	require.ErrorIs(t, w.Alerts.PublishNotice(ctx, core.Actor{UserID: "op"}, 1, "recovery"), core.ErrForbidden)
	require.NoError(t, w.Alerts.PublishNotice(ctx, core.Actor{UserID: "admin", Name: "管理员"}, 1, "recovery"))
	require.Equal(t, []string{"channel:ops-room|incident:1"}, w.Tx.Sent("incident.public_notice"))
	require.Equal(t, []string{"user:|incident:1#notice:recovery"}, w.Tx.Sent("update.incident.notice"))
	require.ErrorIs(t, w.Alerts.PublishNotice(ctx, core.Actor{UserID: "admin"}, 1, "recovery"), core.ErrAlreadyDecided)
}

// TestNon200TimerKeptWhileDueUnchanged: repeated posts of an
// HTTP-availability alert keep its one non-200 timer instead of
// cancelling and scheduling it again each time; an earlier start moves it.
func TestNon200TimerKeptWhileDueUnchanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := world(t)
	labels := map[string]string{"alertname": "Down", "app": "portal", "kind": "http_status"}
	for range 3 {
		_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels)))
		require.NoError(t, err)
		w.Clock.Add(time.Second)
	}
	kinds := func() (all, pending []time.Time) {
		for _, tm := range w.Tx.Timers {
			if tm.Kind == alert.TimerNon200 {
				all = append(all, tm.DueAt)
				if !tm.Cancelled && !tm.Fired {
					pending = append(pending, tm.DueAt)
				}
			}
		}
		return all, pending
	}
	all, pending := kinds()
	require.Equal(t, []time.Time{t0.Add(10 * time.Minute)}, all, "scheduled once")
	require.Equal(t, all, pending)
	earlier := t0.Add(-time.Minute)
	_, err := w.Alerts.Ingest(ctx, group("firing", labels, firing("a", t0, labels), firing("b", earlier, labels)))
	require.NoError(t, err)
	all, pending = kinds()
	require.Len(t, all, 2)
	require.Equal(t, []time.Time{earlier.Add(10 * time.Minute)}, pending, "moved to the earlier start")
}
