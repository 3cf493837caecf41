package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/org"
)

// signInLink issues user's personal web chat sign-in token as they would
// ask for it on WeCom (/webchat link), through the org service.
func (a *app) signInLink(t *testing.T, user string) string {
	t.Helper()
	var clock core.Clock = core.SystemClock{}
	if a.clock != nil {
		clock = a.clock
	}
	tok, _, err := org.NewService(a.store.Org(), clock).IssueWebToken(context.Background(),
		core.Actor{UserID: user, Name: user, Platform: core.PlatformWeCom}, user, time.Hour)
	require.NoError(t, err)
	return tok
}

var (
	apiSecret = regexp.MustCompile(`opsb_[0-9A-Za-z]{49}`)
	tokenID   = regexp.MustCompile(`#(\d+)`)
)

// TestE2EPersonalTokens: /token create in the web chat shows the secret
// once (stored nowhere), the token acts as its owner only, and after
// /token revoke the very next call is 401.
func TestE2EPersonalTokens(t *testing.T) {
	const svc = "legacy-webchat-token-for-tests"
	a := startApp(t, "OPSBOT_WEBCHAT_DEV_MODE=false", "OPSBOT_WEBCHAT_TOKEN="+svc)
	link := a.signInLink(t, "zhengmin")

	code, out := a.authed(t, "POST", "/webchat/api/messages", link, map[string]string{"text": "/令牌 创建 ci --有效期 30d"})
	require.Equal(t, 200, code, out)
	secret := apiSecret.FindString(out)
	require.NotEmpty(t, secret, out)
	id := tokenID.FindStringSubmatch(out)[1]
	require.Empty(t, textColumnsHolding(t, a, secret), "the token is stored hashed only")
	code, out = a.authed(t, "GET", "/webchat/api/inbox?after=0", link, nil)
	require.Equal(t, 200, code)
	require.NotContains(t, out, secret, "the history keeps the reply redacted")
	require.Contains(t, out, "[redacted]")

	// The token acts as zhengmin, and only as zhengmin.
	code, out = a.authed(t, "GET", "/webchat/api/me", secret, nil)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"user":"zhengmin"`)
	code, out = a.authed(t, "POST", "/webchat/api/messages", secret, map[string]string{"text": "/whoami"})
	require.Equal(t, 200, code, out)
	require.Contains(t, out, "zhengmin")
	code, _ = a.authed(t, "POST", "/webchat/api/messages", secret, map[string]string{"user": "admin", "text": "/whoami"})
	require.Equal(t, 403, code, "a token cannot act as someone else")

	code, out = a.authed(t, "POST", "/webchat/api/messages", secret, map[string]string{"text": "/token list"})
	require.Equal(t, 200, code)
	require.Contains(t, out, "#"+id+" ci `"+secret[:11]+"…`")

	// Another member may not revoke it; the owner may, and it is dead at once.
	code, out = a.authed(t, "POST", "/webchat/api/messages", a.signInLink(t, "huangyu"), map[string]string{"text": "/token revoke " + id})
	require.Equal(t, 200, code)
	require.Contains(t, out, `"status":"error"`)
	code, out = a.authed(t, "POST", "/webchat/api/messages", link, map[string]string{"text": "/token revoke " + id})
	require.Equal(t, 200, code)
	require.Contains(t, out, `"status":"ok"`, out)
	code, _ = a.authed(t, "GET", "/webchat/api/me", secret, nil)
	require.Equal(t, 401, code, "a revoked token gets 401 on the very next call")

	admin := a.signInLink(t, "admin")
	code, out = a.authed(t, "POST", "/webchat/api/messages", admin, map[string]string{"text": "/audit token:" + id})
	require.Equal(t, 200, code)
	require.Contains(t, out, "创建令牌 #"+id)
	require.Contains(t, out, "吊销令牌 #"+id)
	require.NotContains(t, out, secret)
}

// TestE2EServiceUsers: webchat.token acts as its service user svc-webchat
// only; the sys admin issues further service tokens; a service user
// cannot sign in with a personal link.
func TestE2EServiceUsers(t *testing.T) {
	const svc = "legacy-webchat-token-for-tests"
	a := startApp(t, "OPSBOT_WEBCHAT_DEV_MODE=false", "OPSBOT_WEBCHAT_TOKEN="+svc)
	code, out := a.authed(t, "GET", "/webchat/api/me", svc, nil)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"user":"svc-webchat"`)
	code, out = a.authed(t, "POST", "/webchat/api/messages", svc, map[string]string{"user": "admin", "text": "/whoami"})
	require.Equal(t, 403, code, "webchat.token no longer acts as anyone: %s", out)
	code, out = a.authed(t, "POST", "/webchat/api/messages", svc, map[string]string{"text": "/whoami"})
	require.Equal(t, 200, code, out)
	require.Contains(t, out, "svc-webchat")

	// Only the sys admin issues service tokens.
	code, out = a.authed(t, "POST", "/webchat/api/messages", a.signInLink(t, "liqiang"), map[string]string{"text": "/token service create svc-webchat deploy"})
	require.Equal(t, 200, code)
	require.Contains(t, out, `"status":"error"`)
	admin := a.signInLink(t, "admin")
	code, out = a.authed(t, "POST", "/webchat/api/messages", admin, map[string]string{"text": "/token service create svc-webchat deploy"})
	require.Equal(t, 200, code)
	secret := apiSecret.FindString(out)
	require.NotEmpty(t, secret, out)
	code, out = a.authed(t, "GET", "/webchat/api/me", secret, nil)
	require.Equal(t, 200, code, out)
	require.Contains(t, out, `"user":"svc-webchat"`)
	code, out = a.authed(t, "POST", "/webchat/api/messages", admin, map[string]string{"text": "/token service list"})
	require.Equal(t, 200, code)
	require.Contains(t, out, "deploy")
	require.Contains(t, out, "svc-webchat")

	// A service user has no personal links.
	_, _, err := org.NewService(a.store.Org(), core.SystemClock{}).IssueWebToken(context.Background(),
		core.Actor{UserID: "admin", Platform: core.PlatformWeCom}, "svc-webchat", time.Hour)
	require.ErrorIs(t, err, core.ErrForbidden)
}

// TestServiceUsersFromConfig: api.service_users, webchat.token and
// backups.token become service users with their roles and tokens.
func TestServiceUsersFromConfig(t *testing.T) {
	t.Parallel()
	cfg, err := configs.Load("configs/dev.yaml", []string{"OPSBOT_WEBCHAT_TOKEN=legacy-webchat", "OPSBOT_BACKUPS_TOKEN=legacy-backup"})
	require.NoError(t, err)
	hash := strings.Repeat("ab", 32)
	cfg.API.ServiceUsers = []configs.ServiceUser{{ID: "svc-monitor", Name: "监控", Unit: "dongcheng",
		Roles: []configs.ServiceRole{{Role: "operator"}, {Role: "unit_contact", Scope: "dc-edu"}}, TokenSHA256: hash, Scope: "read"},
		{ID: "svc-none", Name: "no token"}}
	cfg.Webchat.ServiceRoles = []configs.ServiceRole{{Role: "sys_admin"}}
	users, tokens := serviceUsers(cfg)
	require.Equal(t, []org.ServiceUser{
		{ID: "svc-monitor", Name: "监控", Unit: "dongcheng", Roles: []org.Grant{{Role: org.RoleOperator}, {Role: org.RoleUnitContact, Scope: "dc-edu"}}},
		{ID: "svc-none", Name: "no token", Roles: []org.Grant{}},
		{ID: "svc-webchat", Name: "web chat integration (webchat.token)", Roles: []org.Grant{{Role: org.RoleSysAdmin}}},
		{ID: "svc-backup", Name: "backup scripts (backups.token)", Roles: []org.Grant{{Role: org.RoleOperator}}},
	}, users)
	require.Equal(t, []access.ConfiguredToken{
		{UserID: "svc-monitor", SHA256: hash, Scope: "read"},
		{UserID: "svc-webchat", Secret: "legacy-webchat"},
		{UserID: "svc-backup", Secret: "legacy-backup"},
	}, tokens)
}
