package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"opsbot/core"
	"opsbot/core/access"
)

// inWeCom reports whether the browser is the WeCom client (its user agent
// says wxwork), where the OAuth2 page signs the member in silently; other
// browsers get the QR-code login page (扫码登录).
func inWeCom(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.UserAgent()), "wxwork")
}

// wecomStart sends the browser to WeCom's login with a fresh state.
func (h *Handler) wecomStart(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg.WeCom
	f, err := h.deps.Sessions.BeginFlow(r.Context(), access.SignInWeCom, r.URL.Query().Get("return"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	back := callbackURL(cfg.RedirectBase, r, "/auth/wecom/callback")
	agent := strconv.FormatInt(cfg.AgentID, 10)
	var to string
	if inWeCom(r) {
		// 构造网页授权链接: the parameters in this order, then #wechat_redirect.
		to = cfg.AuthorizeURL + "?appid=" + url.QueryEscape(cfg.CorpID) + "&redirect_uri=" + url.QueryEscape(back) +
			"&response_type=code&scope=snsapi_base&state=" + url.QueryEscape(f.State) + "&agentid=" + agent + "#wechat_redirect"
	} else {
		// Web 登录 (扫码): login_type CorpApp for a self-built app.
		to = cfg.SSOURL + "?login_type=CorpApp&appid=" + url.QueryEscape(cfg.CorpID) + "&agentid=" + agent +
			"&redirect_uri=" + url.QueryEscape(back) + "&state=" + url.QueryEscape(f.State)
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// wecomCallback finishes a WeCom login: the state once, the code to a
// userid, the userid to the org user linked to it.
func (h *Handler) wecomCallback(w http.ResponseWriter, r *http.Request) {
	f, a, ok := h.callback(w, r, access.SignInWeCom)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	code := q.Get("code")
	if code == "" {
		h.refuse(w, r, a, core.Invalid("sign_in_state"))
		return
	}
	userID, err := h.cfg.WeCom.Users.UserIDByCode(ctx, code)
	if err != nil {
		h.log.Warn("wecom login: code not exchanged", "err", err)
		h.refuse(w, r, a, errProvider)
		return
	}
	if userID == "" {
		h.refuse(w, r, a, core.Forbidden("not_member"))
		return
	}
	a.Claim = "wecom=" + userID
	actor, err := h.deps.Resolve(ctx, core.PlatformWeCom, userID)
	if err != nil {
		h.refuse(w, r, a, err)
		return
	}
	a.User = actor.UserID
	h.signIn(w, r, a, f.Return)
}
