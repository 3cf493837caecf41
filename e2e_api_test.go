package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

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

// fails calls and requires an error of status and code; it returns the message.
func (s *apiSession) fails(t *testing.T, user, method, path string, body any, status int, code string) string {
	t.Helper()
	var e api.ErrorBody
	s.ok(t, user, method, path, body, status, &e)
	require.Equal(t, code, e.Error.Code, e.Error.Message)
	require.NotEmpty(t, e.Error.Message)
	return e.Error.Message
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

func incidentScenarios() []apiScenario { return nil }
func ticketScenarios() []apiScenario   { return nil }
func requestScenarios() []apiScenario  { return nil }
