package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
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
