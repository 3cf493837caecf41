package auth

import "strings"

// texts are the pages' words, Chinese first (bot.language picks).
var texts = map[string]map[string]string{
	"zh-CN": {
		"login.title":     "登录 opsbot 运维助手",
		"login.wecom":     "企业微信登录",
		"login.oidc":      "使用 {name} 登录",
		"login.dev":       "开发模式：选择用户（仅本机）",
		"login.dev.go":    "进入",
		"login.none":      "尚未配置网页登录方式，请联系管理员。",
		"login.link_hint": "也可以在企业微信或聊天中向 opsbot 发送 /webchat link，获取个人登录链接。",
		"unknown.title":   "无法登录",
		"unknown.body":    "你的账号尚未在 opsbot 中登记或关联，请联系管理员添加或关联（/org user link …）。",
		"unknown.claim":   "登录身份：{claim}",
		"unknown.command": "管理员可执行：",
		"failed.title":    "登录失败",
		"failed.state":    "登录请求已过期或已使用，请重新登录。",
		"failed.provider": "身份提供方未能完成登录：{error}",
		"failed.link":     "登录链接无效、已过期或已注销。请在 opsbot 中发送 /webchat link 获取新链接。",
		"failed.dev":      "开发模式选择用户仅在开发模式下、从本机访问时可用。",
		"failed.internal": "服务器内部错误，请稍后重试。",
		"failed.signout":  "当前未登录或登录已失效。",
		"limited.title":   "尝试过于频繁",
		"limited.body":    "登录尝试过于频繁，请 {n} 秒后再试。",
		"again":           "重新登录",
		"session.none":    "未登录或登录已失效，请先登录。",
	},
	"en": {
		"login.title":     "Sign in to opsbot",
		"login.wecom":     "Sign in with WeCom",
		"login.oidc":      "Sign in with {name}",
		"login.dev":       "Dev mode: pick a user (this machine only)",
		"login.dev.go":    "Enter",
		"login.none":      "No way to sign in on the web is set up; ask your admin.",
		"login.link_hint": "You can also send /webchat link to opsbot in WeCom or chat for a personal sign-in link.",
		"unknown.title":   "Cannot sign you in",
		"unknown.body":    "Your account is not registered or linked in opsbot yet; ask your admin to add or link you (/org user link …).",
		"unknown.claim":   "Signed in as: {claim}",
		"unknown.command": "Your admin can run:",
		"failed.title":    "Sign-in failed",
		"failed.state":    "This sign-in request has expired or was used already; sign in again.",
		"failed.provider": "The identity provider did not complete the sign-in: {error}",
		"failed.link":     "The sign-in link is unknown, expired or revoked. Send /webchat link to opsbot for a new one.",
		"failed.dev":      "The dev-mode user picker works only in dev mode, from this machine.",
		"failed.internal": "Internal error; try again later.",
		"failed.signout":  "You are not signed in, or your session has ended.",
		"limited.title":   "Too many attempts",
		"limited.body":    "Too many sign-in attempts; try again in {n} seconds.",
		"again":           "Sign in again",
		"session.none":    "Not signed in, or the session has ended; sign in first.",
	},
}

// text translates key into lang (zh-CN unless "en"), filling {name}
// placeholders from kv pairs.
func text(lang, key string, kv ...string) string {
	cat := texts["zh-CN"]
	if lang == "en" {
		cat = texts["en"]
	}
	s, ok := cat[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}
