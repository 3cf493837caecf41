package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/configs"
	"opsbot/core/paging"
)

// pageRecorder is a provider that records the pages it is given (the
// real providers are tested against their APIs' stand-ins).
type pageRecorder struct {
	mu    sync.Mutex
	pages []paging.Page
}

func (r *pageRecorder) Name() string { return "record" }
func (r *pageRecorder) Methods() []paging.Method {
	return []paging.Method{paging.MethodSMS, paging.MethodVoice, paging.MethodEmail}
}

func (r *pageRecorder) Send(_ context.Context, p paging.Page) (paging.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pages = append(r.pages, p)
	return paging.Receipt{Provider: "record", MessageID: fmt.Sprintf("m%d", len(r.pages)), Status: "OK"}, nil
}

// of lists the pages of kind, as "method user".
func (r *pageRecorder) of(kind paging.Kind) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pages {
		if p.Kind == kind {
			out = append(out, string(p.Method)+" "+p.UserID)
		}
	}
	return out
}

// find returns the first page of incident id by method m, if any (other
// pages, e.g. of an earlier incident's escalation, may come after it).
func (r *pageRecorder) find(id int64, m paging.Method) (paging.Page, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pages {
		if p.IncidentID == id && p.Method == m {
			return p, true
		}
	}
	return paging.Page{}, false
}

func (r *pageRecorder) last() paging.Page {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pages[len(r.pages)-1]
}

// recorders are the test apps' recorders by provider name.
var recorders sync.Map

func init() {
	pagingTypes["record"] = func(p configs.PagingProvider) (paging.Provider, error) {
		r, _ := recorders.LoadOrStore(p.Name, &pageRecorder{})
		return r.(*pageRecorder), nil
	}
}

// startPaging starts an app at clock with a recording provider (named
// after the test) and paging rules rules (level → chain) on top of the defaults.
func startPaging(t *testing.T, clock *testClock, rules map[int]string) (*app, *pageRecorder) {
	name := strings.ReplaceAll(t.Name(), "/", "-")
	rec := &pageRecorder{}
	recorders.Store(name, rec)
	a := startAppTweaked(t, clock, func(cfg *configs.Config) {
		cfg.Paging.Providers = []configs.PagingProvider{{Name: name, Type: "record", Methods: []string{"sms", "voice", "email"}}}
		for level, chain := range rules {
			*[]*string{&cfg.Paging.Rules.Level1, &cfg.Paging.Rules.Level2, &cfg.Paging.Rules.Level3, &cfg.Paging.Rules.Level4}[level-1] = chain
		}
	})
	return a, rec
}

// verify gives each on-call person a verified mobile and e-mail through
// the chat commands and the codes the recorder saw.
func verifyContacts(t *testing.T, a *app, rec *pageRecorder) map[string]string {
	mobiles := map[string]string{"sunli": "13800000001", "zhoujie": "13800000002"}
	for user, mobile := range mobiles {
		r := a.say(user, "/联系方式 添加 短信 "+mobile)
		require.Contains(t, r.Text, "验证码已发送", r.all())
		code := rec.last().Code
		require.Equal(t, mobile, rec.last().Address)
		require.Contains(t, a.say(user, "/联系方式 验证 "+code).Text, "已验证")
		a.say(user, "/contact add email "+user+"@example.gov.cn")
		require.Contains(t, a.say(user, "/contact verify "+rec.last().Code).Text, "已验证")
	}
	r := a.say("sunli", "/联系方式 列表")
	require.Contains(t, r.all(), "13800000001（已验证）")
	require.Contains(t, r.all(), "聊天")
	return mobiles
}

// TestPagingChainAndAcks (issue 19): a level-Ⅱ incident declared at 03:00
// → a chat card at once, an SMS at +2 min and (unacknowledged) a voice
// call at +5 min; an SMS reply "1" acknowledges a second incident and
// cancels its voice step; the e-mail's one-time link acknowledges once.
func TestPagingChainAndAcks(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 11, 24, 3, 0, 0, 0, cst)}
	a, rec := startPaging(t, clock, map[int]string{1: "chat; 1m email"})
	mobiles := verifyContacts(t, a, rec)
	policy := a.say("admin", "/值班 策略").all()
	require.Contains(t, policy, "通知：聊天 立即 → 短信 2分钟未确认 → 电话 5分钟未确认", policy)

	a.say("admin", "/incident declare 政务云数据库不可用 --level 2")
	eventually(t, "the chat card at once", func() bool { return len(a.cards("sunli", 1))+len(a.cards("zhoujie", 1)) > 0 })
	require.Empty(t, rec.of(paging.KindIncident), "chat only at first")
	clock.Add(2 * time.Minute)
	eventually(t, "an SMS at +2 min", func() bool { return len(rec.of(paging.KindIncident)) == 1 })
	sms := rec.last()
	require.Equal(t, paging.MethodSMS, sms.Method)
	require.Equal(t, mobiles[sms.UserID], sms.Address)
	require.Contains(t, sms.Text, "政务云数据库不可用")
	require.Contains(t, sms.Text, "回复 1 认领")
	clock.Add(3 * time.Minute)
	eventually(t, "a voice call at +5 min", func() bool {
		got := rec.of(paging.KindIncident)
		return len(got) == 2 && got[1] == "voice "+sms.UserID
	})
	show := a.say("admin", "/incident show 1").all()
	require.Contains(t, show, "短信 → "+demoNames[sms.UserID]+"：已发送")

	// A second level-Ⅱ incident: the SMS reply "1" acknowledges it and cancels its call.
	a.say("admin", "/incident declare 门户网站无法访问 --level 2")
	clock.Add(2 * time.Minute)
	var paged paging.Page
	eventually(t, "the second incident's SMS", func() bool {
		var ok bool
		paged, ok = rec.find(2, paging.MethodSMS)
		return ok
	})
	eventually(t, "its delivery committed", func() bool { return strings.Contains(a.say("admin", "/incident show 2").all(), "呼叫") })
	require.NoError(t, a.acker.AckReply(context.Background(), paging.Reply{Provider: "record", Method: paging.MethodSMS,
		From: "+86" + paged.Address, Text: "1", At: clock.Now()}))
	require.Contains(t, a.say("admin", "/incident show 2").all(), " 认领\n")
	err := a.acker.AckReply(context.Background(), paging.Reply{Method: paging.MethodSMS, From: paged.Address, Text: "1"})
	require.Error(t, err, "a second reply is refused")
	clock.Add(4 * time.Minute)
	never(t, "the call of incident 2 was cancelled", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, p := range rec.pages {
			if p.IncidentID == 2 && p.Method == paging.MethodVoice {
				return true
			}
		}
		return false
	})

	// A level-Ⅰ incident pages by e-mail (this test's rule) with a one-time link.
	a.say("admin", "/incident declare 核心交换机宕机 --level 1")
	clock.Add(time.Minute)
	var mail paging.Page
	eventually(t, "the e-mail", func() bool {
		var ok bool
		mail, ok = rec.find(3, paging.MethodEmail)
		return ok
	})
	ackOnceByLink(t, a, mail.AckURL, 3)

	// A link to an incident acknowledged in chat meanwhile is refused, and
	// not spent: using the link and acknowledging commit together.
	a.say("admin", "/incident declare 统一身份认证异常 --level 1")
	clock.Add(time.Minute)
	eventually(t, "incident 4's e-mail", func() bool {
		var ok bool
		mail, ok = rec.find(4, paging.MethodEmail)
		return ok
	})
	require.Contains(t, a.say("admin", "/incident ack 4").all(), "处理中")
	link, err := url.Parse(mail.AckURL)
	require.NoError(t, err)
	code, body := httpDo(t, "POST", a.base+link.Path)
	require.Equal(t, 409, code, body)
	require.Contains(t, body, "已由")
	var unused int
	require.NoError(t, a.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM ack_tokens WHERE incident_id = 4 AND used_at IS NULL`).Scan(&unused))
	require.Equal(t, 1, unused, "the refused link was spent")
}

// demoNames are the names of the demo org's paged operators.
var demoNames = map[string]string{"sunli": "孙丽", "zhoujie": "周杰"}

// ackOnceByLink opens the one-time acknowledge link of incident id: GET
// shows the confirm page and changes nothing, POST acknowledges, a second
// POST is refused.
func ackOnceByLink(t *testing.T, a *app, ackURL string, id int) {
	t.Helper()
	link, err := url.Parse(ackURL)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link.Path, "/page/ack/"))
	show := fmt.Sprintf("/incident show %d", id)
	code, body := httpDo(t, "GET", a.base+link.Path)
	require.Equal(t, 200, code)
	require.Contains(t, body, "认领")
	require.NotContains(t, a.say("admin", show).all(), " 认领\n", "GET changes nothing")
	code, body = httpDo(t, "POST", a.base+link.Path)
	require.Equal(t, 200, code, body)
	require.Contains(t, body, "已认领")
	require.Contains(t, a.say("admin", show).all(), " 认领\n")
	code, body = httpDo(t, "POST", a.base+link.Path)
	require.Equal(t, 409, code)
	require.Contains(t, body, "已使用过")
}

// TestPagingStormOneSMS (issue 19): 1,000 alerts in 60 s for one group
// make one incident and one SMS.
func TestPagingStormOneSMS(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := &testClock{now: time.Date(2026, 11, 24, 3, 0, 0, 0, cst)}
	a, rec := startPaging(t, clock, nil)
	verifyContacts(t, a, rec)
	start := clock.Now()
	for n := 0; n < 1000; n++ {
		a.webhook("storm", "firing", alertOf(fmt.Sprintf("s%04d", n), "firing", start))
		clock.Add(60 * time.Millisecond)
	}
	clock.Add(2 * time.Minute)
	eventually(t, "one SMS", func() bool { return len(rec.of(paging.KindIncident)) == 1 })
	never(t, "only one", func() bool { return len(rec.of(paging.KindIncident)) > 1 })
	require.Equal(t, 1, strings.Count(a.say("admin", "/incident list").Text, "#"))
}

func httpDo(t *testing.T, method, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
