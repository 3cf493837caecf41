package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// refCards is user's direct messages about ref.
func (a *app) refCards(user, ref string) []wmsg {
	a.t.Helper()
	var out []wmsg
	for _, m := range a.inbox(user) {
		if m.Ref == ref && m.To["user"] == user {
			out = append(out, m)
		}
	}
	return out
}

// startChecklist adds a two-item plan for the operators, runs it at once
// and returns sunli's checklist card.
func startChecklist(t *testing.T, a *app) wmsg {
	t.Helper()
	requireOK(t, a.say("sunli", `/inspect plan add daily-host --cron "0 9 * * 1-5" --assignee operator --items 主机CPU,磁盘空间`))
	requireOK(t, a.say("sunli", "/inspect run daily-host"))
	eventually(t, "the checklist", func() bool { return len(a.refCards("sunli", "inspect:1")) == 1 })
	return a.refCards("sunli", "inspect:1")[0]
}

// TestChecklistUpdatedInPlace: ticking an item of an inspection checklist
// updates the card in place — still one checklist card, showing the item
// ticked, its buttons gone — and the tap is answered in one line, not with
// the checklist again.
func TestChecklistUpdatedInPlace(t *testing.T) {
	a := startApp(t)
	c := startChecklist(t, a)
	require.Contains(t, c.all(), "1. 主机CPU: 待检")
	require.Len(t, c.Buttons, 4)

	r := a.click("sunli", c.ID, "inspect.ok", "inspect:1:1")
	requireOK(t, r)
	require.Contains(t, r.Text, "已记录 1. 主机CPU：✅ 正常")
	require.Empty(t, r.Fields, "the answer is not a second checklist")
	require.NotEqual(t, "inspect:1", r.Ref)

	eventually(t, "the checklist card updated in place", func() bool {
		cs := a.refCards("sunli", "inspect:1")
		return len(cs) == 1 && cs[0].ID == c.ID && cs[0].Revision > c.Revision && strings.Contains(cs[0].all(), "1. 主机CPU: ✅ 正常")
	})
	cs := a.refCards("sunli", "inspect:1")
	require.Len(t, cs, 1, "one checklist card")
	require.Contains(t, cs[0].all(), "2. 磁盘空间: 待检")
	require.Len(t, cs[0].Buttons, 2, "only the open item keeps its buttons")
	n := 0
	for _, m := range a.inbox("sunli") {
		if strings.Contains(m.all(), "1. 主机CPU") && len(m.Fields) > 0 {
			n++
		}
	}
	require.Equal(t, 1, n, "no checklist was posted again")
}

// elementShot saves a screenshot of the first element matching sel among
// the test's artefacts (see artifactDir) and returns its path.
func elementShot(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(sel))))
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	require.NoError(t, err)
	path := filepath.Join(artifactDir(t), name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
	return path
}

// TestCardsInBrowser: in the web chat page (Chromium), an incident card of
// each level I–IV shows the level's emoji leading its title and the
// level's colour on its edge, and an inspection checklist after ticking is
// one card showing the item ticked. Screenshots of each card are saved
// (incident-level-1…4.png, checklist-ticked.png) under $OPSBOT_ARTIFACTS.
func TestCardsInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	a := startApp(t)
	for level := 1; level <= 4; level++ {
		requireOK(t, a.say("zhengmin", fmt.Sprintf("/incident declare 门户网站%d级故障 --level %d", level, level)))
		eventually(t, "the card to the primary", func() bool { return len(a.cards("sunli", level)) == 1 })
	}
	c := startChecklist(t, a)
	requireOK(t, a.click("sunli", c.ID, "inspect.ok", "inspect:1:1"))
	eventually(t, "the checklist updated", func() bool {
		cs := a.refCards("sunli", "inspect:1")
		return len(cs) == 1 && strings.Contains(cs[0].all(), "✅ 正常")
	})

	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(900, 1000),
		chromedp.Navigate(a.base+"/webchat/?user=sunli"), chromedp.WaitVisible(chromedp.ID("input"))))
	colors := map[int]string{1: "rgb(217, 48, 37)", 2: "rgb(242, 140, 40)", 3: "rgb(230, 184, 0)", 4: "rgb(26, 115, 232)"}
	emoji := map[int]string{1: "🔴", 2: "🟠", 3: "🟡", 4: "🔵"}
	for level := 1; level <= 4; level++ {
		sel := fmt.Sprintf(`.msg.sev-%d[data-ref="incident:%d#card"]`, level, level)
		waitJS(t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, sel), "the level "+fmt.Sprint(level)+" card")
		style := evalJS[string](t, ctx, fmt.Sprintf(`(() => { const b = document.querySelector(%q + " .body"); const s = getComputedStyle(b);
			return s.borderLeftColor + "|" + s.borderLeftWidth + "|" + s.borderLeftStyle })()`, sel))
		require.Equal(t, colors[level]+"|6px|solid", style, "level %d", level)
		title := evalJS[string](t, ctx, fmt.Sprintf(`document.querySelector(%q + " .title").textContent`, sel))
		require.True(t, strings.HasPrefix(title, emoji[level]+" "), title)
		require.Contains(t, title, fmt.Sprintf("门户网站%d级故障", level))
		elementShot(t, ctx, sel, fmt.Sprintf("incident-level-%d", level))
	}

	list := `.msg[data-ref="inspect:1"]`
	waitJS(t, ctx, `document.querySelectorAll('`+list+`').length === 1`, "one checklist card")
	text := evalJS[string](t, ctx, `document.querySelector('`+list+`').innerText`)
	require.Contains(t, text, "✅ 正常")
	require.Contains(t, text, "待检")
	require.Equal(t, 1, evalJS[int](t, ctx, `document.querySelectorAll('`+list+`').length`))
	elementShot(t, ctx, list, "checklist-ticked")
	shot(t, ctx, "webchat-cards")
}

// TestSilenceButtonsStayAfterAck: an alert incident's card keeps its
// group's counts and its silence buttons when a person acknowledges it
// (the card is refreshed with the alert state, not without it); the
// acknowledge button goes, and the card holds six buttons at most.
func TestSilenceButtonsStayAfterAck(t *testing.T) {
	a := startApp(t, "OPSBOT_ALERTS_ALERTMANAGER_URL=http://127.0.0.1:1")
	a.webhook("{}:{alertname=\"SiteNon200\"}", "firing", alertOf("fp1", "firing", time.Now().Add(-time.Minute)))
	card := a.channelCard("ops", 1)
	actions := func(m wmsg) []string {
		var out []string
		for _, b := range m.Buttons {
			out = append(out, b.Action+" "+b.Value)
		}
		return out
	}
	silences := []string{"alert.silence incident:1|1h", "alert.silence incident:1|4h", "alert.silence incident:1|tomorrow"}
	require.Subset(t, actions(card), append([]string{"incident.ack incident:1"}, silences...))
	require.LessOrEqual(t, len(card.Buttons), 6)

	requireOK(t, a.press("sunli", card, "incident.ack"))
	var after wmsg
	eventually(t, "the card refreshed after the acknowledgement", func() bool {
		after = a.channelCard("ops", 1)
		return after.Revision > card.Revision && after.Text == "处理中"
	})
	require.Subset(t, actions(after), silences, "silence buttons stay after the acknowledgement")
	require.NotContains(t, actions(after), "incident.ack incident:1")
	require.Contains(t, after.all(), "触发 1，已恢复 0", "the group's counts stay too")
	require.LessOrEqual(t, len(after.Buttons), 6)
}
