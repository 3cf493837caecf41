package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsoleTrendsInScope: the trends page draws its six charts as SVG
// on the server, for the signed-in user's view: a district admin's
// incidents-by-level chart counts their district's incidents and not the
// other district's, which the city's sys admin sees too. The chat's
// incident card links to the incident's console page (console.public_url).
// In Chromium at 390 px the charts are there and nothing scrolls
// sideways; screenshots are saved.
func TestConsoleTrendsInScope(t *testing.T) {
	a := startApp(t, "OPSBOT_CONSOLE_PUBLIC_URL=https://ops.example.gov.cn")
	mine := a.declareIn(t, "sunli", "东城教育网站无法访问", 1, "dc-edu")
	a.declareIn(t, "sunli", "东城卫健系统缓慢", 2, "dc-health")
	a.declareIn(t, "sunli", "西城市场监管系统异常", 3, "xc-market")

	r := a.say("sunli", fmt.Sprintf("/incident show %d", mine))
	assert.Contains(t, r.all(), fmt.Sprintf("https://ops.example.gov.cn/console/incidents/%d", mine), "the card links to its console page")

	today := shanghaiNow(t).Format("01-02")
	page := a.consoleGet(t, "liqiang", "/console/trends")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	for _, id := range []string{"chart-incidents", "chart-mtt", "chart-sla", "chart-inspections", "chart-backups", "chart-escalations"} {
		assert.Contains(t, page.Body, `data-chart="`+id+`"`)
	}
	assert.Equal(t, 6, strings.Count(page.Body, "<svg "), "six charts")
	assert.Contains(t, page.Body, "<title>"+today+" I 级：1</title>", "the district's level I incident, today")
	assert.Contains(t, page.Body, "<title>"+today+" II 级：1</title>")
	assert.NotContains(t, page.Body, "III 级：", "the other district's level III incident is not in the district admin's view")

	city := a.consoleGet(t, "admin", "/console/trends?range=12m")
	require.Equal(t, http.StatusOK, city.Status, city.Body)
	month := shanghaiNow(t).Format("2006-01")
	assert.Contains(t, city.Body, "<title>"+month+" III 级：1</title>", "the city sees both districts, by month")
	assert.Contains(t, city.Body, `data-range="12m" class="on"`)

	narrowed := a.consoleGet(t, "liqiang", "/console/trends?unit=dc-health")
	require.Equal(t, http.StatusOK, narrowed.Status)
	assert.NotContains(t, narrowed.Body, " I 级：1</title>", "the unit filter narrows to dc-health")
	assert.Contains(t, narrowed.Body, "<title>"+today+" II 级：1</title>")
	refused := a.consoleGet(t, "liqiang", "/console/trends?unit=xc-market")
	assert.Equal(t, http.StatusForbidden, refused.Status)
	bad := a.consoleGet(t, "liqiang", "/console/trends?range=2y")
	assert.Equal(t, http.StatusBadRequest, bad.Status)
	assert.Contains(t, bad.Body, "时间范围 2y 无效")

	ctx := consoleBrowser(t, a, "liqiang", true)
	consolePage(t, ctx, a, "/console/trends")
	assert.Equal(t, 6, evalJS[int](t, ctx, `document.querySelectorAll("svg.chart").length`))
	assert.Equal(t, 1, evalJS[int](t, ctx, `document.querySelectorAll('[data-chart="chart-incidents"] [data-series="I 级"] rect').length`))
	assert.Equal(t, 0, evalJS[int](t, ctx, `document.querySelectorAll('[data-chart="chart-incidents"] [data-series="III 级"] rect').length`))
	assert.Greater(t, evalJS[float64](t, ctx, `document.querySelector("svg.chart").getBoundingClientRect().width`), 300.0, "charts fill the phone's width")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390)
	shot(t, ctx, "trends-390")
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))
	consolePage(t, ctx, a, "/console/trends?range=3m")
	shot(t, ctx, "trends-3m-desktop")
}

// TestConsoleAuditSearchExportAndChain: the audit page searches by
// entity, actor, action and time with /audit's rule (an admin with no
// filter sees their own entries), exports the search as CSV with a BOM
// and as JSON lines, and shows the chain's last verification; a sys admin
// runs one on demand (a POST with the CSRF token), a district admin is
// refused.
func TestConsoleAuditSearchExportAndChain(t *testing.T) {
	a := startApp(t)
	id := a.declareIn(t, "sunli", "门户网站证书过期", 2, "dc-edu")
	entity := fmt.Sprintf("incident:%d", id)

	page := a.consoleGet(t, "admin", "/console/audit?action=incident.&actor=sunli")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	assert.Contains(t, page.Body, ">"+entity+"</a>")
	assert.Contains(t, page.Body, "<code>incident.declare</code>")
	assert.Contains(t, page.Body, fmt.Sprintf("孙丽 宣布事件 #%d（标题：门户网站证书过期", id), "the entry as a sentence")
	assert.NotContains(t, page.Body, `&#34;:`, "no raw JSON")
	assert.NotContains(t, page.Body, "<code>org.", "only incident actions")
	assert.Contains(t, page.Body, `id="chain-status"`, "the chain's status (not walked yet, or by the checkpoint at start)")

	byEntity := a.consoleGet(t, "admin", "/console/audit?entity="+url.QueryEscape(entity))
	require.Equal(t, http.StatusOK, byEntity.Status)
	assert.Equal(t, strings.Count(byEntity.Body, "<tr data-seq="), strings.Count(byEntity.Body, ">"+entity+"</a>"), "every row is about the entity")

	own := a.consoleGet(t, "liqiang", "/console/audit")
	require.Equal(t, http.StatusOK, own.Status, own.Body)
	assert.Contains(t, own.Body, `id="own-note"`, "a district admin without a filter sees their own entries")
	forbidden := a.consoleGet(t, "liqiang", "/console/audit?actor=wangfang")
	assert.Equal(t, http.StatusForbidden, forbidden.Status)
	future := time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	none := a.consoleGet(t, "admin", "/console/audit?since="+future)
	assert.Contains(t, none.Body, `colspan="6" class="muted"`, "nothing after the day after tomorrow")

	csvFile := a.consoleGet(t, "admin", "/console/audit/export.csv?action=incident.declare")
	require.Equal(t, http.StatusOK, csvFile.Status, csvFile.Body)
	assert.True(t, strings.HasPrefix(csvFile.Body, "\ufeff序号,时间,操作人"), "UTF-8 with a BOM and Chinese headers")
	assert.Contains(t, csvFile.Header.Get("Content-Disposition"), "attachment")
	assert.Contains(t, csvFile.Body, entity)
	assert.Contains(t, csvFile.Body, "门户网站证书过期", "Chinese intact")
	jsonl := a.consoleGet(t, "admin", "/console/audit/export.jsonl?entity="+url.QueryEscape(entity))
	require.Equal(t, http.StatusOK, jsonl.Status)
	sc := bufio.NewScanner(strings.NewReader(jsonl.Body))
	lines := 0
	for sc.Scan() {
		var rec struct {
			Seq                  int64
			Entity, Action, Hash string
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		assert.Equal(t, entity, rec.Entity)
		assert.NotEmpty(t, rec.Hash)
		lines++
	}
	assert.Greater(t, lines, 0)

	post := func(user string) consoleResponse {
		secret, csrf := consoleSession(t, a, user)
		req, err := http.NewRequest(http.MethodPost, a.base+"/console/audit/verify", strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: consoleCookie, Value: secret})
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return consoleResponse{Status: resp.StatusCode, Header: resp.Header}
	}
	assert.Equal(t, http.StatusForbidden, post("liqiang").Status, "sys admins only")
	done := post("admin")
	require.Equal(t, http.StatusSeeOther, done.Status)
	assert.Equal(t, "/console/audit#chain", done.Header.Get("Location"))
	after := a.consoleGet(t, "admin", "/console/audit")
	assert.Contains(t, after.Body, `data-whole="true"`)
	assert.Contains(t, after.Body, "由 admin 发起")

	ctx := consoleBrowser(t, a, "admin", true)
	consolePage(t, ctx, a, "/console/audit")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("a-action"), "incident.")))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("a-go"))))
	// The search reloads the page: wait for the new one, not the rows of the old.
	waitJS(t, ctx, `location.search.includes("action=incident.") && document.readyState === "complete" && !!document.querySelector("#audit tbody tr[data-seq]")`,
		"the search did not load")
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#audit").innerText`), entity)
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector("#chain-status").innerText`), "完整")
	assert.LessOrEqual(t, evalJS[int](t, ctx, `document.documentElement.scrollWidth`), 390)
	shot(t, ctx, "audit-390")
}
