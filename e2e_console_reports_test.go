package main

import (
	"encoding/csv"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// TestConsoleReports is issue 15's "must show" for reports: seeded with
// incidents and tickets in dongcheng and xicheng, a district admin's
// downloaded XLSX has one sheet per section and the numbers of
// /report incidents --month for the same scope (dongcheng's incidents
// only); the CSV starts with the BOM and its Chinese survives
// encoding/csv; a bearer API token from /token create downloads with its
// owner's scope; a unit outside the scope is refused with the chat's
// reason (403), a bad month with 400; a member gets their own items
// only; the page renders at 390 px in Chromium.
func TestConsoleReports(t *testing.T) {
	at := shanghai(t)
	clock := &testClock{now: at("2026-11-24 10:00")}
	a := startAppWith(t, clock)
	requireOK(t, a.say("zhengmin", "/incident declare 教务系统无法登录 --level 3 --unit dc-edu"))
	requireOK(t, a.say("liqiang", "/incident declare 区政务网中断 --level 2 --unit dongcheng"))
	requireOK(t, a.say("huangyu", "/incident declare 抽查系统缓慢 --level 3 --unit xc-market"))
	requireOK(t, a.say("zhengmin", "/ticket open tech 登录后页面空白"))
	requireOK(t, a.say("huangyu", "/ticket open tech 导出失败"))
	requireOK(t, a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
	requireOK(t, a.say("zhangwei", "/app online kaoqin")) // pending in dc-edu
	const month = "2026-11"

	// The chat's numbers for liqiang (district admin of dongcheng).
	chat := a.say("liqiang", "/report incidents --month "+month)
	requireOK(t, chat)
	chatByUnit := chatCounts(t, chat, "按单位")
	require.Equal(t, map[string]int{"dc-edu": 1, "dongcheng": 1}, chatByUnit, "dongcheng's incidents only")

	// The XLSX, with the session cookie.
	res := a.consoleGet(t, "liqiang", "/console/reports/incidents.xlsx?month="+month)
	require.Equal(t, 200, res.Status, res.Body)
	require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", res.Header.Get("Content-Type"))
	disp := res.Header.Get("Content-Disposition")
	require.Contains(t, disp, "filename*=UTF-8''"+url.PathEscape("事件分析-2026-11.xlsx"), "RFC 5987 name")
	f, err := excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, []string{"概要", "按等级", "按单位", "按系统", "重复问题"}, f.GetSheetList())
	summary := sheetPairs(t, f, "概要")
	require.Equal(t, "2", summary["事件数"], "equal to the chat's total")
	require.Equal(t, "东城区", summary["范围"])
	require.Contains(t, chat.all(), "事件数: 2（")
	require.Equal(t, chatByUnit, sheetCounts(t, f, "按单位", 0, 2))
	rows, err := f.GetRows("按单位")
	require.NoError(t, err)
	require.Equal(t, []string{"单位代码", "单位", "数量"}, rows[0], "Chinese headers")
	panes, err := f.GetPanes("按单位")
	require.NoError(t, err)
	require.True(t, panes.Freeze, "the header row is frozen")
	width, err := f.GetColWidth("按单位", "B")
	require.NoError(t, err)
	require.Equal(t, 24.0, width)
	require.NoError(t, f.Close())

	// The sys admin's city report narrowed to dongcheng counts the same.
	res = a.consoleGet(t, "admin", "/console/reports/incidents.xlsx?month="+month+"&unit=dongcheng")
	require.Equal(t, 200, res.Status, res.Body)
	f, err = excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, chatByUnit, sheetCounts(t, f, "按单位", 0, 2))
	res = a.consoleGet(t, "admin", "/console/reports/incidents.xlsx?month="+month)
	f, err = excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"dc-edu": 1, "dongcheng": 1, "xc-market": 1}, sheetCounts(t, f, "按单位", 0, 2), "the city")

	// The CSV: a BOM, then every section under its title; Chinese intact.
	res = a.consoleGet(t, "liqiang", "/console/reports/incidents.csv?month="+month)
	require.Equal(t, 200, res.Status, res.Body)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(res.Body, "\ufeff"), "UTF-8 with a BOM")
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"概要"}, recs[0])
	require.Equal(t, []string{"项目", "数值"}, recs[1])
	require.Contains(t, recs, []string{"事件数", "2"})
	require.Contains(t, recs, []string{"按单位"}, "each section under its title row")
	require.Contains(t, recs, []string{"dc-edu", "东城区教育局", "1"})

	// A bearer API token downloads with its owner's scope.
	created := a.say("liqiang", "/token create reports --scope read")
	token := apiSecret.FindString(created.all())
	require.NotEmpty(t, token, created.all())
	res = a.consoleGetToken(t, token, "/console/reports/tickets.xlsx?month="+month)
	require.Equal(t, 200, res.Status, res.Body)
	f, err = excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, []string{"概要", "按类型", "工单明细"}, f.GetSheetList())
	require.Equal(t, "1", sheetPairs(t, f, "概要")["受理"], "dongcheng's ticket only")
	list, err := f.GetRows("工单明细")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "登录后页面空白", list[1][2])
	require.Equal(t, "2026-11-24 10:00", list[1][5], "a date formatted as a date")
	typ, err := f.GetCellType("工单明细", "F2")
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeSharedString, typ, "a date cell, not text")
	res = a.consoleGetToken(t, token, "/console/reports/incidents.xlsx?month="+month)
	f, err = excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, chatByUnit, sheetCounts(t, f, "按单位", 0, 2))
	require.Equal(t, 401, a.consoleGetToken(t, "", "/console/reports/incidents.csv?month="+month).Status)

	// README's curl examples, as written, with liqiang's token.
	var examples []string
	for _, b := range readmeSection(t, "## Console") {
		if strings.Contains(b, "/console/reports/") {
			examples = append(examples, b)
		}
	}
	require.Len(t, examples, 2, "README Console → Reports shows the downloads")
	dir := t.TempDir()
	for i, b := range examples {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", b)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "OPSBOT_URL="+a.base, "OPSBOT_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "README reports example %d:\n%s\n%s", i+1, b, out)
	}
	for _, name := range []string{"incidents.xlsx", "tickets-2026-11.csv", "inspections-2026-Q4.xlsx"} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
	}
	f, err = excelize.OpenFile(filepath.Join(dir, "incidents.xlsx"))
	require.NoError(t, err)
	require.Equal(t, chatByUnit, sheetCounts(t, f, "按单位", 0, 2))

	// Outside the scope: the chat's reason, 403; a bad month: 400.
	refused := a.say("liqiang", "/report incidents --month "+month+" --unit xc-market")
	require.Equal(t, "error", refused.Status, refused.all())
	res = a.consoleGetToken(t, token, "/console/reports/incidents.xlsx?month="+month+"&unit=xc-market")
	require.Equal(t, 403, res.Status)
	require.Equal(t, refused.Text, strings.TrimSpace(res.Body))
	code, out := a.apiAs(t, token, "GET", "/api/v1/reports/incidents?month="+month+"&unit=xc-market", nil)
	require.Equal(t, 403, code, "the API narrows the same way")
	_, msg := errorOf(t, out)
	require.Equal(t, refused.Text, msg)
	code, out = a.apiAs(t, token, "GET", "/api/v1/reports/incidents?month="+month+"&unit=dc-edu", nil)
	require.Equal(t, 200, code, out)
	require.EqualValues(t, 1, out["total"])
	res = a.consoleGet(t, "liqiang", "/console/reports/approvals.csv?month=2026-13")
	require.Equal(t, 400, res.Status, res.Body)
	require.Equal(t, 404, a.consoleGet(t, "liqiang", "/console/reports/nothing.xlsx").Status)

	// Each report downloads in both formats.
	for _, kind := range []string{"incidents", "inspections", "backups", "tickets", "approvals"} {
		for _, ext := range []string{"xlsx", "csv"} {
			res := a.consoleGet(t, "sunli", "/console/reports/"+kind+"."+ext+"?month="+month)
			require.Equal(t, 200, res.Status, "%s.%s: %s", kind, ext, res.Body)
		}
	}
	require.Equal(t, 200, a.consoleGet(t, "sunli", "/console/reports/inspections.xlsx?quarter=2026-Q4").Status)

	// A member: their own items only (zhengmin declared one incident).
	res = a.consoleGet(t, "zhengmin", "/console/reports/incidents.xlsx?month="+month)
	require.Equal(t, 200, res.Status, res.Body)
	f, err = excelize.OpenReader(strings.NewReader(res.Body))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"dc-edu": 1}, sheetCounts(t, f, "按单位", 0, 2))
	memberChat := a.say("zhengmin", "/report incidents --month "+month)
	require.Contains(t, memberChat.all(), "本人事项")
	require.Equal(t, 403, a.consoleGet(t, "zhengmin", "/console/reports/incidents.xlsx?month="+month+"&unit=dc-edu").Status)

	// The page, at 390 px.
	ctx := consoleBrowser(t, a, "liqiang", true)
	consolePage(t, ctx, a, "/console/reports?kind=incidents&month="+month)
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector("#sec-by_unit").innerText`), "dc-edu")
	require.NotContains(t, evalJS[string](t, ctx, `document.body.innerText`), "xc-market")
	require.True(t, evalJS[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth + 1`), "no page-wide horizontal scroll at 390 px")
	href := evalJS[string](t, ctx, `document.querySelector("#dl-xlsx").getAttribute("href")`)
	require.Equal(t, "/console/reports/incidents.xlsx?month="+month, href)
	shot(t, ctx, "reports-incidents-390")
	consolePage(t, ctx, a, "/console/reports?kind=tickets&month="+month)
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector("#sec-tickets").innerText`), "登录后页面空白")
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("r-kind"), "approvals"), chromedp.Click(chromedp.ID("r-go")),
		chromedp.WaitVisible(chromedp.ID("sec-pending"))))
	require.Contains(t, evalJS[string](t, ctx, `document.querySelector("#sec-pending").innerText`), "考勤系统")
	shot(t, ctx, "reports-approvals-390")
}

// chatCounts reads a report field like "按单位: dc-edu 1，dongcheng 1".
func chatCounts(t *testing.T, m wmsg, field string) map[string]int {
	t.Helper()
	out := map[string]int{}
	line := regexp.MustCompile(`(?m)^` + field + `: (.*)$`).FindStringSubmatch(m.all())
	require.NotNil(t, line, m.all())
	for _, part := range strings.Split(line[1], "，") {
		i := strings.LastIndex(part, " ")
		n, err := strconv.Atoi(part[i+1:])
		require.NoError(t, err, part)
		out[part[:i]] = n
	}
	return out
}

// sheetPairs reads a two-column sheet (after its header) as name → value.
func sheetPairs(t *testing.T, f *excelize.File, sheet string) map[string]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	out := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) >= 2 {
			out[r[0]] = r[1]
		}
	}
	return out
}

// sheetCounts reads a sheet's rows (after its header) as name → count.
func sheetCounts(t *testing.T, f *excelize.File, sheet string, name, value int) map[string]int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	out := map[string]int{}
	for _, r := range rows[1:] {
		n, err := strconv.Atoi(r[value])
		require.NoError(t, err, r)
		out[r[name]] = n
	}
	return out
}

// TestReportDefaultMonthIsTheBotClock: /report incidents without --month
// reports the month of the bot's clock, not of the machine's.
func TestReportDefaultMonthIsTheBotClock(t *testing.T) {
	at := shanghai(t)
	a := startAppWith(t, &testClock{now: at("2026-10-15 10:00")})
	r := a.say("liqiang", "/report incidents")
	requireOK(t, r)
	require.Equal(t, "report:incidents:2026-10", r.Ref)
	require.Equal(t, 200, a.consoleGet(t, "liqiang", "/console/reports").Status)
	page := a.consoleGet(t, "liqiang", "/console/reports?kind=tickets")
	require.Contains(t, page.Body, `value="2026-10"`, "the console's default month too")
}
