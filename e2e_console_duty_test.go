package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"opsbot/adapters/api"
)

var feedURL = regexp.MustCompile(`https?://\S+/ical/([a-z2-7]{52})\.ics`)

// fetchFeed GETs an iCal feed URL and returns the status and body.
func fetchFeed(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// feedShift is one event of a feed, or one shift of /duty, as compared.
type feedShift struct {
	Start, End time.Time
	Summary    string
}

// parseFeed reads a feed with a Go iCal parser.
func parseFeed(t *testing.T, body string) (map[string]string, []feedShift, []string) {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	require.NoError(t, err)
	props := map[string]string{}
	for _, p := range cal.CalendarProperties {
		props[p.IANAToken] = p.Value
	}
	var out []feedShift
	var uids []string
	for _, ev := range cal.Events() {
		start, err := ev.GetStartAt()
		require.NoError(t, err)
		end, err := ev.GetEndAt()
		require.NoError(t, err)
		out = append(out, feedShift{Start: start.UTC(), End: end.UTC(), Summary: ev.GetProperty(ics.ComponentPropertySummary).Value})
		uids = append(uids, ev.Id())
	}
	return props, out, uids
}

// dutyShifts asks /api/v1/duty/shifts (the core's duty.Shifts, as /duty
// uses it) for a rotation's shifts from day from to day to, as user.
func dutyShifts(t *testing.T, a *app, user, rotation, from, to string) api.DutyShifts {
	t.Helper()
	req, err := http.NewRequest("GET", a.base+"/api/v1/duty/shifts?rotation="+rotation+"&from="+from+"&to="+to, nil)
	require.NoError(t, err)
	req.Header.Set("X-Opsbot-User", user)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var out api.DutyShifts
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestDutyICalFeed (issue 15, must show): /duty ical gives a member a
// secret feed URL of their own shifts and one of a whole rotation's; each
// parses with a Go iCal parser and lists exactly the shifts /duty gives
// for the next 30 days, a rotation that skips holidays across 中秋 and
// 国庆 2026 included, swaps too; a new URL ends the old; the database
// keeps no secret; /duty ical revoke makes every URL answer 404 at once.
func TestDutyICalFeed(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 9, 15, 10, 0, 0, 0, cst)} // Tuesday, before 中秋 and 国庆
	a := startAppWith(t, clock, "OPSBOT_WEBCHAT_PUBLIC_URL=https://ops.example.gov.cn")
	local := func(url string) string { // the public URL, fetched from the test's app
		require.True(t, strings.HasPrefix(url, "https://ops.example.gov.cn/ical/"), url)
		return a.base + strings.TrimPrefix(url, "https://ops.example.gov.cn")
	}

	require.Equal(t, "ok", a.say("admin", "/duty rotation add holiday-desk --members sunli,zhoujie,zhengmin --every day --handover 09:00 --skip-holidays").Status)
	// A member swaps zhoujie's shift of 09-29 to zhengmin.
	require.Equal(t, "ok", a.say("sunli", "/duty swap holiday-desk 2026-09-29 zhengmin").Status)

	// The rotation's feed, asked for with the Chinese words.
	m := a.say("huangyu", "/值班 日历订阅 holiday-desk")
	require.Equal(t, "ok", m.Status, m.all())
	found := feedURL.FindStringSubmatch(m.Text)
	require.NotNil(t, found, m.Text)
	rotURL, rotSecret := local(found[0]), found[1]
	require.Contains(t, m.Text, "webcal://ops.example.gov.cn/ical/"+rotSecret+".ics")
	require.Empty(t, textColumnsHolding(t, a, rotSecret), "no column holds the secret")

	code, hdr, body := fetchFeed(t, rotURL)
	require.Equal(t, 200, code, body)
	require.Equal(t, "text/calendar; charset=utf-8", hdr.Get("Content-Type"))
	require.Equal(t, "private, no-cache", hdr.Get("Cache-Control"))
	props, events, uids := parseFeed(t, body)
	require.Equal(t, "值班：holiday-desk", props["X-WR-CALNAME"])

	// Exactly the shifts of /duty for the next 30 days.
	from, to := "2026-09-15", "2026-10-15"
	want := dutyShifts(t, a, "huangyu", "holiday-desk", from, to)
	windowEnd := time.Date(2026, 10, 16, 0, 0, 0, 0, cst)
	var got []feedShift
	for _, e := range events {
		if e.Start.Before(windowEnd) {
			got = append(got, e)
		}
	}
	names := map[string]string{"sunli": "孙丽", "zhoujie": "周杰", "zhengmin": "郑敏"}
	var expect []feedShift
	for _, s := range want.Shifts {
		expect = append(expect, feedShift{Start: s.Start.UTC(), End: s.End.UTC(), Summary: "值班：holiday-desk " + names[s.Primary]})
	}
	require.Equal(t, expect, got)
	require.Greater(t, len(events), len(got), "the feed reaches further ahead than 30 days")

	// Holidays are skipped: 中秋 (Fri 09-25) and the weekend stay with
	// Thursday's shift until Monday 09-28; the shift of 09-30 runs through
	// 国庆 (10-01 to 10-07) to Thursday 10-08; the make-up workday Sunday
	// 09-20 hands over; the swap shows.
	at := func(d string) time.Time {
		t0, err := time.ParseInLocation("2006-01-02 15:04", d, cst)
		require.NoError(t, err)
		return t0.UTC()
	}
	require.Contains(t, got, feedShift{Start: at("2026-09-24 09:00"), End: at("2026-09-28 09:00"), Summary: "值班：holiday-desk 郑敏"})
	require.Contains(t, got, feedShift{Start: at("2026-09-30 09:00"), End: at("2026-10-08 09:00"), Summary: "值班：holiday-desk 郑敏"})
	require.Contains(t, got, feedShift{Start: at("2026-09-20 09:00"), End: at("2026-09-21 09:00"), Summary: "值班：holiday-desk 周杰"})
	require.Contains(t, got, feedShift{Start: at("2026-09-29 09:00"), End: at("2026-09-30 09:00"), Summary: "值班：holiday-desk 郑敏"})
	require.Contains(t, body, "DTSTART:20260930T010000Z", "09:00 in Beijing, written in UTC")
	require.Len(t, uids, len(events))

	// zhengmin's own shifts: every rotation they are on duty in (the swap
	// included), nothing else.
	m = a.say("zhengmin", "/duty ical")
	mineURL := local(feedURL.FindString(m.Text))
	require.NotEmpty(t, mineURL, m.Text)
	_, _, body = fetchFeed(t, mineURL)
	props, mine, _ := parseFeed(t, body)
	require.Equal(t, "我的值班：郑敏", props["X-WR-CALNAME"])
	var ownExpect []feedShift
	for _, e := range events {
		if e.Summary == "值班：holiday-desk 郑敏" {
			ownExpect = append(ownExpect, e)
		}
	}
	require.NotEmpty(t, ownExpect)
	require.Equal(t, ownExpect, mine)

	// A swap later: the calendar updates the same event (same UID).
	require.Equal(t, "ok", a.say("sunli", "/duty swap holiday-desk 2026-10-09 sunli").Status)
	_, _, body2 := fetchFeed(t, rotURL)
	_, events2, uids2 := parseFeed(t, body2)
	require.Equal(t, uids, uids2, "the same events, updated in place")
	i := slicesIndex(events2, at("2026-10-09 09:00"))
	require.Equal(t, "值班：holiday-desk 周杰", events[i].Summary, "zhoujie's shift")
	require.Equal(t, "值班：holiday-desk 孙丽", events2[i].Summary, "taken by sunli")

	// Asking again replaces the URL: the old one is gone at once.
	m = a.say("huangyu", "/duty ical holiday-desk")
	newURL := local(feedURL.FindString(m.Text))
	require.NotEqual(t, rotURL, newURL)
	code, _, _ = fetchFeed(t, rotURL)
	require.Equal(t, 404, code)
	code, _, _ = fetchFeed(t, newURL)
	require.Equal(t, 200, code)

	// Revoked: 404 on the very next request.
	require.Contains(t, a.say("zhengmin", "/duty ical revoke").Text, "1")
	code, hdr, _ = fetchFeed(t, mineURL)
	require.Equal(t, 404, code)
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	require.Contains(t, a.say("huangyu", "/值班 日历订阅 停用").Text, "1")
	code, _, _ = fetchFeed(t, newURL)
	require.Equal(t, 404, code)
	code, _, _ = fetchFeed(t, a.base+"/ical/"+strings.Repeat("a", 52)+".ics")
	require.Equal(t, 404, code, "an unknown secret")

	// Every create and revoke is in the audit log.
	var n int
	require.NoError(t, a.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action IN ('duty.feed.create', 'duty.feed.revoke')`).Scan(&n))
	require.Equal(t, 3+3, n, "three feeds made, one replaced, two revoked")
	code, out := a.auditVerify()
	require.Equal(t, 0, code, out)
}

// slicesIndex finds the shift starting at start.
func slicesIndex(s []feedShift, start time.Time) int {
	for i, e := range s {
		if e.Start.Equal(start) {
			return i
		}
	}
	return -1
}

// acceptHandover waits for the handover card of rotation to reach its
// incoming person and taps Accept.
func acceptHandover(t *testing.T, a *app, rotation, incoming string) {
	t.Helper()
	m := a.waitNotice(incoming, "【交接班】"+rotation)
	require.NotEmpty(t, m.Buttons, m.all())
	r := a.click(incoming, m.ID, m.Buttons[0].Action, m.Buttons[0].Value)
	require.Equal(t, "ok", r.Status, r.all())
}

// TestConsoleDutyCalendar (issue 15, must show): the duty calendar in
// Chromium at 390 px and on a desktop. September/October 2026 of a
// holiday-skipping rotation mark 10-01 to 10-07 as holidays (国庆 with
// its weekend), 09-20 and 10-10 as make-up workdays (调休上班) and 09-28
// as the working Monday that ends 中秋's shift; a swap shows, handovers
// show signed or not; ‹ › move between months; a member sees only their
// rotations; "my shifts" lists the member's shifts as /duty gives them;
// a feed made on the page (POST with the CSRF token) parses and,
// revoked there, answers 404.
func TestConsoleDutyCalendar(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 9, 15, 10, 0, 0, 0, cst)}
	a := startAppWith(t, clock)
	require.Equal(t, "ok", a.say("admin", "/duty rotation add holiday-desk --members sunli,zhoujie,zhengmin --every day --handover 09:00 --skip-holidays").Status)
	require.Equal(t, "ok", a.say("sunli", "/duty swap holiday-desk 2026-09-29 zhengmin").Status)
	// 09-16: sunli hands over to zhoujie, who signs; 09-17: zhoujie to
	// zhengmin, who has not signed yet.
	clock.Set(time.Date(2026, 9, 16, 9, 5, 0, 0, cst))
	acceptHandover(t, a, "holiday-desk", "zhoujie")
	clock.Set(time.Date(2026, 9, 17, 9, 5, 0, 0, cst))
	a.waitNotice("zhengmin", "【交接班】holiday-desk")

	// The member's scope: their rotation, not the city's ops-oncall.
	r := a.consoleGet(t, "zhengmin", "/console/duty")
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `<option value="holiday-desk" selected>`)
	require.NotContains(t, r.Body, `value="ops-oncall"`)
	require.Equal(t, 403, a.consoleGet(t, "zhengmin", "/console/duty?rotation=ops-oncall").Status)
	require.Contains(t, a.consoleGet(t, "liqiang", "/console/duty").Body, `value="ops-oncall"`, "a district admin sees the city's rotation covering them")

	ctx := consoleBrowser(t, a, "zhengmin", true)
	consolePage(t, ctx, a, "/console/duty?rotation=holiday-desk&month=2026-09")
	cell := func(date, attr string) string {
		return evalJS[string](t, ctx, `(document.querySelector('td[data-date="`+date+`"]')||{getAttribute:()=>"missing"}).getAttribute("`+attr+`")||""`)
	}
	require.Equal(t, "makeup", cell("2026-09-20", "data-kind"), "Sunday 09-20 is worked (调休上班)")
	require.Equal(t, "holiday", cell("2026-09-25", "data-kind"), "中秋")
	require.Equal(t, "holiday", cell("2026-09-27", "data-kind"), "中秋's weekend")
	require.Equal(t, "workday", cell("2026-09-28", "data-kind"))
	require.Equal(t, "zhengmin", cell("2026-09-27", "data-primary"), "Thursday's shift stays on through 中秋")
	require.Equal(t, "sunli", cell("2026-09-28", "data-primary"), "and hands over on Monday 09-28")
	require.Equal(t, "1", cell("2026-09-29", "data-swap"))
	require.Equal(t, "zhengmin", cell("2026-09-29", "data-primary"))
	require.Equal(t, "accepted", cell("2026-09-16", "data-handover"))
	require.Equal(t, "pending", cell("2026-09-17", "data-handover"))
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector('td[data-date="2026-09-20"]').innerText`), "班")
	require.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390, "nothing scrolls sideways at 390 px")
	shot(t, ctx, "duty-2026-09-390")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("next"))))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#month[data-month="2026-10"]`))))
	for d := 1; d <= 7; d++ {
		date := fmt.Sprintf("2026-10-%02d", d)
		require.Equal(t, "holiday", cell(date, "data-kind"), date)
		require.Equal(t, "zhengmin", cell(date, "data-primary"), "09-30's shift runs through 国庆")
	}
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector('td[data-date="2026-10-01"]').innerText`), "休")
	require.Equal(t, "makeup", cell("2026-10-10", "data-kind"), "Saturday 10-10 is worked")
	require.Equal(t, "weekend", cell("2026-10-11", "data-kind"))
	shot(t, ctx, "duty-2026-10-390")

	// My shifts: zhengmin's of September, as /duty gives them.
	consolePage(t, ctx, a, "/console/duty/mine?month=2026-09")
	var want []string
	for _, s := range dutyShifts(t, a, "zhengmin", "holiday-desk", "2026-09-01", "2026-09-30").Shifts {
		if s.Primary == "zhengmin" {
			want = append(want, s.Start.In(cst).Format("2006-01-02 15:04"))
		}
	}
	require.NotEmpty(t, want)
	got := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#my-shifts tr[data-start]")).map(r => r.getAttribute("data-start"))`)
	require.Equal(t, want, got)
	require.Contains(t, want, "2026-09-29 09:00", "the swap onto them")
	shot(t, ctx, "duty-mine-390")

	// A feed made on the page, fetched, and revoked there.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("make-mine"))))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("feed-url"))))
	url := evalJS[string](t, ctx, `document.querySelector("#feed-url").value`)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/ical/[a-z2-7]{52}\.ics$`, url)
	code, _, body := fetchFeed(t, url)
	require.Equal(t, 200, code)
	_, events, _ := parseFeed(t, body)
	require.NotEmpty(t, events)
	shot(t, ctx, "duty-feed-390")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#feed-list li button`))))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("feed-revoked"))))
	code, _, _ = fetchFeed(t, url)
	require.Equal(t, 404, code, "revoked on the page: gone at once")

	// A district admin on a desktop.
	desk := consoleBrowser(t, a, "liqiang", false)
	require.NoError(t, chromedp.Do(desk, chromedp.EmulateViewport(1280, 900)))
	consolePage(t, desk, a, "/console/duty?rotation=holiday-desk&month=2026-10")
	require.Equal(t, "holiday", evalJS[string](t, desk, `document.querySelector('td[data-date="2026-10-01"]').getAttribute("data-kind")`))
	shot(t, desk, "duty-2026-10-desktop")
}
