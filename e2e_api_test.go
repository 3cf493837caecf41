package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/api"
	"opsbot/adapters/api/apitest"
)

// apiScenario is one story told through the REST API of a running app.
type apiScenario struct {
	name string
	run  func(t *testing.T, s *apiSession)
}

// apiScenarios are every scenario TestAPIConformance runs; each helper's
// list joins here.
func apiScenarios() []apiScenario {
	return slices.Concat(metaScenarios(), incidentScenarios(), ticketScenarios(), requestScenarios(), opsScenarios())
}

// apiSession calls the app's API through the validating harness, acting
// as org users by the dev-mode header.
type apiSession struct {
	a *app
	h *apitest.Harness
}

// do calls method path as user ("" for no credentials) with a JSON body
// (a string is sent as is, for malformed JSON).
func (s *apiSession) do(t *testing.T, user, method, path string, body any) (int, []byte) {
	t.Helper()
	var header http.Header
	if user != "" {
		header = http.Header{api.DevUserHeader: {user}}
	}
	return s.h.With(t).Do(method, path, header, body)
}

// ok calls and requires status want, decoding the answer into out (when set).
func (s *apiSession) ok(t *testing.T, user, method, path string, body any, want int, out any) []byte {
	t.Helper()
	code, raw := s.do(t, user, method, path, body)
	require.Equalf(t, want, code, "%s %s as %s: %s", method, path, user, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out))
	}
	return raw
}

// fails calls and requires an error of status and code (any code when
// ""); it returns the message.
func (s *apiSession) fails(t *testing.T, user, method, path string, body any, status int, code string) string {
	t.Helper()
	var e api.ErrorBody
	s.ok(t, user, method, path, body, status, &e)
	if code != "" {
		require.Equal(t, code, e.Error.Code, e.Error.Message)
	}
	require.NotEmpty(t, e.Error.Message)
	return e.Error.Message
}

// listIDs lists path as user (one page) and returns the items' ids, in order.
func listIDs[T any](t *testing.T, s *apiSession, user, path string, id func(T) int64) []int64 {
	t.Helper()
	var p api.Page[T]
	s.ok(t, user, "GET", path, nil, 200, &p)
	var out []int64
	for _, v := range p.Items {
		out = append(out, id(v))
	}
	return out
}

// TestAPIConformance runs every API scenario against the real app through
// a client validating each request and response against the served
// OpenAPI document, then demands every operation was exercised.
func TestAPIConformance(t *testing.T) {
	a := startApp(t, "OPSBOT_BACKUPS_TOKEN=backup-script-token")
	h := apitest.New(t, a.base)
	require.Empty(t, a.api.Undocumented(a.apiMux.Patterns()), "every /api/v1 route has a spec entry")
	s := &apiSession{a: a, h: h}
	for _, sc := range apiScenarios() {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s) })
	}
	h.AssertCovered(t)
}

func metaScenarios() []apiScenario {
	return []apiScenario{
		{"openapi document", func(t *testing.T, s *apiSession) {
			raw := s.ok(t, "", "GET", api.SpecPath, nil, 200, nil)
			_, err := apitest.Load(raw)
			require.NoError(t, err)
		}},
		{"me", func(t *testing.T, s *apiSession) {
			var me api.Me
			s.ok(t, "liqiang", "GET", "/api/v1/me", nil, 200, &me)
			require.Equal(t, "liqiang", me.User)
			require.Equal(t, "dev", me.Via)
			require.Equal(t, "write", me.Scope)
			require.Contains(t, me.Roles, api.Grant{Role: "district_admin", Scope: "dongcheng"})
			s.fails(t, "", "GET", "/api/v1/me", nil, 401, "unauthenticated")
			msg := s.fails(t, "nobody", "GET", "/api/v1/me", nil, 403, "not_registered")
			require.Equal(t, s.a.say("nobody", "/whoami").Text, msg, "the chat's own words")
		}},
	}
}

// incidentScenarios: declare, list with filters and paging, show, and
// each step of the lifecycle, through the incident service as /incident.
func incidentScenarios() []apiScenario {
	return []apiScenario{
		{"incidents", func(t *testing.T, s *apiSession) {
			var first, second api.Incident
			s.ok(t, "zhangwei", "POST", "/api/v1/incidents", api.DeclareIncident{Title: "考勤打卡失败", Level: 3, Unit: "dc-edu"}, 201, &first)
			require.Equal(t, "declared", first.State)
			require.Equal(t, "zhangwei", first.DeclaredBy)
			require.Equal(t, "api", first.Source, "declared by a script, not in chat")
			s.ok(t, "maxin", "POST", "/api/v1/incidents", api.DeclareIncident{Title: "Portal slow", Level: 4, Unit: "dc-health"}, 201, &second)
			s.fails(t, "zhangwei", "POST", "/api/v1/incidents", api.DeclareIncident{Title: "x", Level: 7}, 422, "incident_level")
			s.fails(t, "zhangwei", "POST", "/api/v1/incidents", `{"title":"x","level":3,"colour":"red"}`, 400, "api_bad_json")

			idsAs := func(user, path string) []int64 {
				return listIDs(t, s, user, path, func(i api.Incident) int64 { return i.ID })
			}
			// Lists keep to the caller's scope (org.View), as the console does:
			// an operator sees the city, a member their own, a unit admin elsewhere none.
			ids := func(path string) []int64 { return idsAs("sunli", path) }
			require.Equal(t, []int64{second.ID}, idsAs("maxin", "/api/v1/incidents"), "a member: their own")
			require.Empty(t, idsAs("chenjing", "/api/v1/incidents"), "xicheng's admin sees nothing of dongcheng")
			s.fails(t, "chenjing", "GET", "/api/v1/incidents?unit=dc-edu", nil, 403, "outside_view")
			require.Equal(t, []int64{second.ID, first.ID}, ids("/api/v1/incidents?state=open"))
			require.Equal(t, []int64{first.ID}, ids("/api/v1/incidents?unit=dc-edu&level=3"))
			require.Equal(t, []int64{second.ID}, ids("/api/v1/incidents?q=portal"))
			require.Empty(t, ids("/api/v1/incidents?state=resolved"))
			since := url.QueryEscape(first.CreatedAt.Add(-time.Minute).Format(time.RFC3339))
			require.Equal(t, []int64{second.ID, first.ID}, ids("/api/v1/incidents?since="+since))
			require.Empty(t, ids("/api/v1/incidents?until="+since))
			// Paging walks newest first, one at a time.
			var p1, p2 api.Page[api.Incident]
			s.ok(t, "sunli", "GET", "/api/v1/incidents?state=open&limit=1", nil, 200, &p1)
			require.Equal(t, second.ID, p1.Items[0].ID)
			require.NotEmpty(t, p1.NextCursor)
			s.ok(t, "sunli", "GET", "/api/v1/incidents?state=open&limit=1&cursor="+p1.NextCursor, nil, 200, &p2)
			require.Equal(t, first.ID, p2.Items[0].ID)
			require.Empty(t, p2.NextCursor)
			s.fails(t, "zhengmin", "GET", "/api/v1/incidents?limit=500", "", 400, "api_bad_param")

			path := fmt.Sprintf("/api/v1/incidents/%d", first.ID)
			// A member may add an update but not acknowledge: the chat's refusal, word for word.
			msg := s.fails(t, "zhengmin", "POST", path+"/ack", nil, 403, "incident_not_authorized")
			require.Equal(t, s.a.say("zhengmin", fmt.Sprintf("/incident ack %d", first.ID)).Text, msg)
			var got api.Incident
			s.ok(t, "zhengmin", "POST", path+"/updates", api.IncidentText{Text: "三楼打卡机也不行"}, 200, &got)
			s.ok(t, "zhangwei", "POST", path+"/ack", nil, 200, &got)
			require.Equal(t, "acknowledged", got.State)
			require.NotNil(t, got.AckedAt)
			s.ok(t, "zhengmin", "POST", path+"/escalate", nil, 200, &got)
			s.ok(t, "zhangwei", "POST", path+"/level", api.IncidentLevel{Level: 2}, 200, &got)
			require.Equal(t, 2, got.Level)
			s.ok(t, "zhangwei", "POST", path+"/assign", api.AssignIncident{User: "sunli"}, 200, &got)
			require.Equal(t, "sunli", got.Owner)
			s.ok(t, "sunli", "POST", path+"/mitigate", api.IncidentText{Text: "切到备用打卡"}, 200, &got)
			require.Equal(t, "mitigated", got.State)
			s.ok(t, "sunli", "POST", path+"/resolve", api.ResolveIncident{Summary: "更换网关"}, 200, &got)
			require.Equal(t, "resolved", got.State)
			require.Equal(t, "更换网关", got.Summary)
			s.fails(t, "sunli", "POST", path+"/resolve", api.ResolveIncident{Summary: "again"}, 409, "incident_not_open")

			var d api.IncidentDetail
			s.ok(t, "zhengmin", "GET", path, nil, 200, &d)
			var kinds []string
			for _, e := range d.Timeline {
				kinds = append(kinds, e.Kind)
			}
			require.Equal(t, []string{"declare", "update", "ack", "escalate", "level", "assign", "mitigate", "resolve"}, kinds)
			require.Equal(t, "resolved", d.Incident.State)
			s.fails(t, "zhengmin", "GET", "/api/v1/incidents/999999", nil, 404, "incident_not_found")
			s.fails(t, "zhengmin", "GET", "/api/v1/incidents/abc", "", 400, "api_bad_param")
		}},
	}
}

// ticketScenarios: open, list by scope, show with the clock, and each
// step, through the ticket service as /ticket.
func ticketScenarios() []apiScenario {
	return []apiScenario{
		{"tickets", func(t *testing.T, s *apiSession) {
			var edu, market api.Ticket
			s.ok(t, "zhengmin", "POST", "/api/v1/tickets", api.OpenTicket{Kind: "tech", Title: "VPN 无法登录"}, 201, &edu)
			require.Equal(t, "open", edu.State)
			require.True(t, edu.Clock.Running)
			require.Positive(t, edu.Clock.Remaining)
			s.ok(t, "huangyu", "POST", "/api/v1/tickets", api.OpenTicket{Kind: "business", Title: "抽查名单导出失败", App: "sjsj"}, 201, &market)
			require.Equal(t, []string{"wuhao"}, market.Assignees)
			s.fails(t, "huangyu", "POST", "/api/v1/tickets", api.OpenTicket{Kind: "business", Title: "no app"}, 422, "ticket_needs_app")

			ids := func(user, query string) []int64 {
				return listIDs(t, s, user, "/api/v1/tickets"+query, func(tk api.Ticket) int64 { return tk.ID })
			}
			// A district admin lists only its district's tickets; the operators the technical ones.
			require.Equal(t, []int64{edu.ID}, ids("liqiang", ""))
			require.Equal(t, []int64{market.ID}, ids("wangfang", ""))
			require.Equal(t, []int64{edu.ID, market.ID}, ids("admin", ""), "the soonest due first")
			require.Equal(t, []int64{market.ID}, ids("huangyu", "?mine=true"))
			require.Empty(t, ids("sunli", "?overdue=true"))
			require.Equal(t, []int64{edu.ID}, ids("admin", "?limit=1"))

			// Another unit's member may not read the ticket: the chat's words.
			path := fmt.Sprintf("/api/v1/tickets/%d", edu.ID)
			msg := s.fails(t, "maxin", "GET", path, nil, 403, "ticket_forbidden")
			require.Equal(t, s.a.say("maxin", fmt.Sprintf("/ticket show %d", edu.ID)).Text, msg)
			var d api.TicketDetail
			s.ok(t, "liqiang", "GET", path, nil, 200, &d)
			require.Equal(t, edu.Clock.Due, d.Ticket.Clock.Due)

			var got api.Ticket
			s.ok(t, "sunli", "POST", path+"/wait", api.TicketText{Text: "哪个账号？"}, 200, &got)
			require.True(t, got.Clock.Paused)
			require.False(t, got.Clock.Running)
			require.NotNil(t, got.Clock.PausedAt)
			s.fails(t, "sunli", "POST", path+"/wait", api.TicketText{Text: "again"}, 409, "ticket_state")
			s.ok(t, "zhengmin", "POST", path+"/reply", api.TicketText{Text: "zhengmin"}, 200, &got)
			require.True(t, got.Clock.Running)
			s.ok(t, "sunli", "POST", path+"/forward", api.ForwardTicket{To: "zhoujie"}, 200, &got)
			require.Equal(t, []string{"zhoujie"}, got.Assignees)
			msg = s.fails(t, "zhengmin", "POST", path+"/answer", api.TicketText{Text: "not mine"}, 403, "ticket_not_yours")
			require.Equal(t, s.a.say("zhengmin", fmt.Sprintf("/ticket answer %d not mine", edu.ID)).Text, msg)
			s.ok(t, "zhoujie", "POST", path+"/answer", api.TicketText{Text: "重置了密码"}, 200, &got)
			require.Equal(t, "answered", got.State)
			require.False(t, got.Clock.Running)
			s.ok(t, "zhengmin", "POST", path+"/close", nil, 200, &got)
			require.Equal(t, "closed", got.State)
			s.ok(t, "zhengmin", "GET", path, nil, 200, &d)
			var kinds []string
			for _, e := range d.History {
				kinds = append(kinds, e.Kind)
			}
			require.Equal(t, []string{"open", "wait", "reply", "forward", "answer", "close"}, kinds)
			s.fails(t, "zhengmin", "GET", "/api/v1/tickets/999999", nil, 404, "ticket_not_found")
		}},
	}
}

// requestScenarios: list what waits for me and my own, show, approve and
// reject, through the approval engine as the chat's buttons and /request.
func requestScenarios() []apiScenario {
	return []apiScenario{
		{"requests", func(t *testing.T, s *apiSession) {
			requireOK(t, s.a.say("zhangwei", "/app register kaoqin 考勤系统 --owner dc-edu --scope unit"))
			requireOK(t, s.a.say("zhangwei", "/org role grant zhengmin unit_contact"))
			id := s.a.submit("zhengmin", "/app online kaoqin --note 高频应用优先")
			rel := s.a.submit("wuhao", `/app release sjsj v3 --notes 修复`)

			list := func(user, query string) []int64 {
				return listIDs(t, s, user, "/api/v1/requests"+query, func(r api.Request) int64 { return r.ID })
			}
			require.Equal(t, []int64{int64(id)}, list("zhangwei", "?pending=true"), "waiting for the owner unit's admin")
			require.Equal(t, []int64{int64(id)}, list("zhengmin", "?mine=true"))
			require.Equal(t, []int64{int64(id)}, list("zhengmin", ""))
			require.Empty(t, list("zhengmin", "?pending=true"))
			require.Contains(t, list("admin", "?pending=true"), int64(rel))

			path := fmt.Sprintf("/api/v1/requests/%d", id)
			var d api.RequestDetail
			s.ok(t, "zhengmin", "GET", path, nil, 200, &d)
			require.Equal(t, "pending", d.Request.State)
			require.Equal(t, []string{"zhangwei"}, d.Request.WaitingOn)
			require.Equal(t, "高频应用优先", d.Request.Payload["note"])
			msg := s.fails(t, "maxin", "GET", path, nil, 403, "request_forbidden")
			require.Equal(t, s.a.say("maxin", fmt.Sprintf("/request show %d", id)).Text, msg)

			// A member may not approve: the chat's refusal, word for word.
			msg = s.fails(t, "zhengmin", "POST", path+"/approve", api.Approve{}, 403, "")
			require.Equal(t, s.a.say("zhengmin", fmt.Sprintf("/request approve %d", id)).Text, msg)
			s.fails(t, "zhangwei", "POST", path+"/approve", `{"note":`, 400, "api_bad_json")
			s.ok(t, "zhangwei", "POST", path+"/approve", api.Approve{Note: "同意上线"}, 200, &d)
			require.Equal(t, 2, d.Request.Step)
			require.Equal(t, "zhangwei", d.Decisions[0].Actor)
			require.Equal(t, "api", d.Decisions[0].Platform)
			require.Equal(t, "同意上线", d.Decisions[0].Note)
			// The step has moved on: a second approval of step 1 is refused, naming who decided.
			msg = s.fails(t, "zhangwei", "POST", path+"/approve", api.Approve{Step: 1}, 409, "")
			require.Contains(t, msg, "张伟")

			relPath := fmt.Sprintf("/api/v1/requests/%d", rel)
			s.fails(t, "admin", "POST", relPath+"/reject", api.Reject{}, 422, "note_required")
			s.ok(t, "admin", "POST", relPath+"/reject", api.Reject{Reason: "先补 UAT 报告"}, 200, &d)
			require.Equal(t, "rejected", d.Request.State)
			require.Empty(t, d.Request.WaitingOn)
			s.fails(t, "admin", "GET", "/api/v1/requests/999999", nil, 404, "request_not_found")
		}},
	}
}
