package bot

import (
	"sort"
	"strings"
)

// Languages the bot speaks.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// catalog holds the texts of one language by key; {name} is replaced by
// the argument of that name.
type catalog map[string]string

var catalogs = map[string]catalog{LangZH: zh, LangEN: en}

// T translates key in lang with named arguments (alternating name, value).
func T(lang, key string, kv ...string) string {
	c, ok := catalogs[lang]
	if !ok {
		c = zh
	}
	s, ok := c[key]
	if !ok {
		if s, ok = en[key]; !ok {
			s = key
		}
	}
	if len(kv) == 0 {
		return s
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// tmap translates with the arguments of a map.
func tmap(lang, key string, args map[string]string) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]string, 0, 2*len(args))
	for _, k := range keys {
		kv = append(kv, k, args[k])
	}
	return T(lang, key, kv...)
}

var zh = catalog{
	// Usage and parsing.
	"err.title":                 "操作未完成",
	"err.unknown_command":       "未知命令：{arg}。输入 /help 查看可用命令。",
	"err.incomplete":            "命令不完整：/{arg} 之后还需要子命令。",
	"err.unknown_flag":          "不认识的参数 {arg}。",
	"err.flag_value":            "参数 {arg} 需要一个值。",
	"err.missing_args":          "缺少参数。",
	"err.extra_args":            "多余的参数：{arg}。如含空格请用引号括起来。",
	"err.missing_flag":          "缺少必填参数 {arg}。",
	"err.unclosed_quote":        "引号没有闭合。",
	"err.not_a_command":         "请以 / 开头输入命令，例如 /help 或 /帮助。",
	"err.internal":              "服务内部错误，操作未执行，请稍后重试（编号 {id}）。",
	"err.unknown_action":        "这个按钮已失效（{action}）。",
	"usage":                     "用法：{usage}",
	"usage.list":                "可用的子命令：\n{list}",
	"err.code":                  "{field} 必须是小写字母、数字、-、_ 或 . 组成的编码（最长 64 位），而不是“{value}”。",
	"err.name":                  "{field} 不能为空，且不超过 100 个字。",
	"err.level":                 "级别“{value}”无效，应为 district（区县）、unit（单位）或 department（部门）。",
	"err.role":                  "角色“{value}”无效，可选：sys_admin、district_admin、unit_admin、unit_contact、operator、access_party。",
	"err.platform":              "平台“{value}”无效，应为 wecom 或 slack。",
	"err.external_id":           "平台账号“{value}”无效。",
	"err.entity_ref":            "对象“{value}”格式应为 类型:编号，例如 user:zhangsan、unit:dc-edu。",
	"err.unit_not_found":        "单位 {code} 不存在。",
	"err.unit_removed":          "单位 {code} 已被撤销。",
	"err.user_not_found":        "用户 {id} 不存在。",
	"err.user_removed":          "用户 {id} 已停用。",
	"err.app_not_found":         "应用 {code} 不存在。",
	"err.unit_exists":           "单位编码 {code} 已被使用。",
	"err.user_exists":           "用户 {id} 已存在。",
	"err.duplicate":             "该记录已存在（{constraint}）。",
	"err.level_parent":          "{level} 级单位不能挂在 {parent}（{parent_level}）之下。",
	"err.not_covering":          "无权操作：{action} 需要管辖单位 {unit} 的管理员。",
	"err.not_covering_parent":   "无权操作：{action} 需要管辖 {unit} 上级单位的管理员（单位管理员只能维护本单位的部门，单位本身由分级管理员维护）。",
	"err.need_tiered":           "无权操作：{action} 涉及 {unit}，须由管辖它的分级管理员或系统总管理员办理（跨单位调动、单位合并属分级管理员职责）。",
	"err.need_sys_admin":        "无权操作：{action} 只能由系统总管理员办理。",
	"err.self_grant":            "不能给自己授予角色，请由上级管理员授权。",
	"err.self_remove":           "不能停用自己的账号。",
	"err.grantee_out_of_scope":  "{user} 不在 {scope} 内，不能担任该单位的管理员或联络人。",
	"err.scope_level":           "{role} 的范围应为 {want} 级单位，而 {scope} 是 {level} 级。",
	"err.scope_required":        "{role} 需要用 --scope 指定范围。",
	"err.scope_ambiguous":       "{user} 在多个范围持有 {role}（{scopes}），请用 --scope 指定。",
	"err.unit_not_empty":        "单位 {code} 还有 {users} 名用户、{units} 个下级单位，请先调出或合并后再撤销。",
	"err.city_remove":           "市级根单位 {code} 不能撤销。",
	"err.merge_same":            "不能把单位 {code} 合并到它自己。",
	"err.merge_level":           "只能合并同级单位：{from} 是 {from_level}，{into} 是 {into_level}。",
	"err.merge_into_descendant": "不能把 {from} 合并到它的下级单位 {into}。",
	"err.same_unit":             "{id} 已经在 {unit}。",
	"err.last_sys_admin":        "{id} 是最后一位系统总管理员，不能撤销或停用。",
	"err.grant_exists":          "{user} 已经持有 {role}（范围 {scope}）。",
	"err.grant_missing":         "{user} 没有 {role} 角色{scope}。",
	"err.identity_taken":        "{platform} 账号 {id} 已关联到 {user}。",
	"err.not_registered":        "你（{id}）还不是系统用户，请联系本单位管理员添加。",
	"err.not_linked":            "你的 {platform} 账号（{id}）尚未关联系统用户，请联系本单位管理员执行 /org user link。",
	"err.audit_forbidden":       "无权查看 {entity} 的审计记录。",
	"err.already_decided":       "已由他人处理。",

	// Names.
	"role.sys_admin": "系统总管理员", "role.district_admin": "分级管理员", "role.unit_admin": "单位管理员",
	"role.unit_contact": "单位联络人", "role.operator": "运营方", "role.access_party": "接入方", "role.member": "普通用户",
	"level.city": "市级", "level.district": "区县", "level.unit": "单位", "level.department": "部门",

	// Replies.
	"whoami.title":     "{name}（{id}）",
	"field.unit":       "单位",
	"field.roles":      "角色",
	"field.identities": "已关联账号",
	"field.platform":   "当前平台",
	"none":             "无",
	"tree.title":       "组织架构 · {name}",
	"tree.line":        "{indent}• {name}（{code}，{level}）· {users} 人",
	"unit.added":       "已新增{level} {name}（{code}），上级：{parent}。",
	"unit.renamed":     "单位 {code} 已更名为 {name}。",
	"unit.removed":     "单位 {code} 已撤销。",
	"unit.merged":      "{from} 已并入 {into}：调入 {users} 名用户、{units} 个下级单位，收回 {grants} 项授权。",
	"user.added":       "已添加用户 {name}（{id}）到 {unit}。",
	"user.moved":       "{name}（{id}）已调至 {unit}。",
	"user.removed":     "用户 {id} 已停用，其角色已全部收回。",
	"user.linked":      "已将 {platform} 账号 {ext} 关联到 {id}。",
	"role.granted":     "已授予 {user} {role}（范围 {scope}）。",
	"role.revoked":     "已收回 {user} 的 {role}（范围 {scope}）。",
	"audit.title":      "审计记录 · {entity}",
	"audit.empty":      "{entity} 没有审计记录。",
	"audit.line":       "#{seq} {at} {actor}（{platform}）{action}",

	// Notices.
	"notice.org.user_added":   "你已被 {by} 添加到 {unit}。输入 /help 查看可用命令。",
	"notice.org.user_moved":   "你已由 {by} 从 {from} 调至 {to}。",
	"notice.org.role_granted": "{by} 授予你 {role}（范围 {scope}）。",
	"notice.org.role_revoked": "{by} 收回了你的 {role}（范围 {scope}）。{reason}",
	"notice.title":            "通知",

	// Help.
	"help.title":           "opsbot 命令",
	"help.intro":           "在命令前加 /，中英文命令词均可（如 /org tree 或 /组织 树）。点下方按钮查看各类命令。",
	"help.topic":           "{topic} 命令",
	"help.org":             "组织与角色",
	"help.general":         "通用",
	"err.help_unknown":     "没有 {topic} 这类命令，输入 /help 查看全部。",
	"help.whoami":          "显示你的身份、单位和角色",
	"help.help":            "显示帮助",
	"help.audit":           "查看对象的审计记录，如 user:zhangsan",
	"help.org tree":        "显示组织架构",
	"help.org unit add":    "新增下级单位（区县/单位/部门）",
	"help.org unit rename": "单位更名",
	"help.org unit remove": "撤销空单位",
	"help.org unit merge":  "合并单位（分级管理员）",
	"help.org user add":    "添加用户",
	"help.org user move":   "调动用户",
	"help.org user remove": "停用用户",
	"help.org user show":   "查看用户",
	"help.org user link":   "关联企业微信/Slack 账号",
	"help.org role grant":  "授予角色",
	"help.org role revoke": "收回角色",
}

var en = catalog{
	"err.title":                 "Not done",
	"err.unknown_command":       "Unknown command: {arg}. Type /help for the commands.",
	"err.incomplete":            "Incomplete command: /{arg} needs a subcommand.",
	"err.unknown_flag":          "Unknown flag {arg}.",
	"err.flag_value":            "Flag {arg} needs a value.",
	"err.missing_args":          "Missing arguments.",
	"err.extra_args":            "Unexpected arguments: {arg}. Quote values that contain spaces.",
	"err.missing_flag":          "Missing required flag {arg}.",
	"err.unclosed_quote":        "A quote is not closed.",
	"err.not_a_command":         "Start commands with /, e.g. /help.",
	"err.internal":              "Internal error; nothing was changed. Please retry later (ref {id}).",
	"err.unknown_action":        "This button no longer works ({action}).",
	"usage":                     "Usage: {usage}",
	"usage.list":                "Subcommands:\n{list}",
	"err.code":                  "{field} must be a code of lower-case letters, digits, -, _ or . (at most 64), not \"{value}\".",
	"err.name":                  "{field} must not be empty and at most 100 characters.",
	"err.level":                 "Level \"{value}\" is not valid: use district, unit or department.",
	"err.role":                  "Role \"{value}\" is not valid: use sys_admin, district_admin, unit_admin, unit_contact, operator or access_party.",
	"err.platform":              "Platform \"{value}\" is not valid: use wecom or slack.",
	"err.external_id":           "Platform account \"{value}\" is not valid.",
	"err.entity_ref":            "\"{value}\" should look like kind:id, e.g. user:zhangsan or unit:dc-edu.",
	"err.unit_not_found":        "Unit {code} does not exist.",
	"err.unit_removed":          "Unit {code} has been removed.",
	"err.user_not_found":        "User {id} does not exist.",
	"err.user_removed":          "User {id} has been deactivated.",
	"err.app_not_found":         "App {code} does not exist.",
	"err.unit_exists":           "Unit code {code} is already taken.",
	"err.user_exists":           "User {id} already exists.",
	"err.duplicate":             "That record exists already ({constraint}).",
	"err.level_parent":          "A {level} cannot be placed under {parent} ({parent_level}).",
	"err.not_covering":          "Not allowed: {action} needs an admin covering unit {unit}.",
	"err.not_covering_parent":   "Not allowed: {action} needs an admin covering the parent of {unit} (unit admins maintain their departments; the unit itself belongs to the district admin).",
	"err.need_tiered":           "Not allowed: {action} touches {unit} and needs the district admin covering it or the sys admin (cross-unit moves and merges are tiered-admin work).",
	"err.need_sys_admin":        "Not allowed: {action} is for the sys admin only.",
	"err.self_grant":            "You cannot grant a role to yourself; ask the admin above you.",
	"err.self_remove":           "You cannot deactivate your own account.",
	"err.grantee_out_of_scope":  "{user} is not in {scope}, so cannot be its admin or contact.",
	"err.scope_level":           "The scope of {role} must be a {want}; {scope} is a {level}.",
	"err.scope_required":        "{role} needs --scope.",
	"err.scope_ambiguous":       "{user} holds {role} on several scopes ({scopes}); give --scope.",
	"err.unit_not_empty":        "Unit {code} still has {users} users and {units} child units; move or merge them first.",
	"err.city_remove":           "The city root unit {code} cannot be removed.",
	"err.merge_same":            "Unit {code} cannot be merged into itself.",
	"err.merge_level":           "Only units of one level merge: {from} is a {from_level}, {into} a {into_level}.",
	"err.merge_into_descendant": "{from} cannot be merged into its own descendant {into}.",
	"err.same_unit":             "{id} is already in {unit}.",
	"err.last_sys_admin":        "{id} is the last sys admin and cannot be revoked or removed.",
	"err.grant_exists":          "{user} already holds {role} on {scope}.",
	"err.grant_missing":         "{user} does not hold {role} {scope}.",
	"err.identity_taken":        "{platform} account {id} is linked to {user} already.",
	"err.not_registered":        "You ({id}) are not an opsbot user yet; ask your unit admin to add you.",
	"err.not_linked":            "Your {platform} account ({id}) is not linked to an opsbot user; ask your unit admin to run /org user link.",
	"err.audit_forbidden":       "You may not see the audit history of {entity}.",
	"err.already_decided":       "Someone else has handled this already.",

	"role.sys_admin": "sys admin", "role.district_admin": "district admin", "role.unit_admin": "unit admin",
	"role.unit_contact": "unit contact", "role.operator": "operator", "role.access_party": "access party", "role.member": "member",
	"level.city": "city", "level.district": "district", "level.unit": "unit", "level.department": "department",

	"whoami.title":     "{name} ({id})",
	"field.unit":       "Unit",
	"field.roles":      "Roles",
	"field.identities": "Linked accounts",
	"field.platform":   "Platform",
	"none":             "none",
	"tree.title":       "Org tree · {name}",
	"tree.line":        "{indent}• {name} ({code}, {level}) · {users} users",
	"unit.added":       "Added {level} {name} ({code}) under {parent}.",
	"unit.renamed":     "Unit {code} is now called {name}.",
	"unit.removed":     "Unit {code} removed.",
	"unit.merged":      "{from} merged into {into}: {users} users and {units} child units moved, {grants} grants revoked.",
	"user.added":       "Added user {name} ({id}) to {unit}.",
	"user.moved":       "{name} ({id}) moved to {unit}.",
	"user.removed":     "User {id} deactivated; all their roles were revoked.",
	"user.linked":      "Linked {platform} account {ext} to {id}.",
	"role.granted":     "Granted {role} on {scope} to {user}.",
	"role.revoked":     "Revoked {role} on {scope} from {user}.",
	"audit.title":      "Audit history · {entity}",
	"audit.empty":      "{entity} has no audit history.",
	"audit.line":       "#{seq} {at} {actor} ({platform}) {action}",

	"notice.org.user_added":   "{by} added you to {unit}. Type /help to see what you can do.",
	"notice.org.user_moved":   "{by} moved you from {from} to {to}.",
	"notice.org.role_granted": "{by} granted you {role} on {scope}.",
	"notice.org.role_revoked": "{by} revoked your {role} on {scope}. {reason}",
	"notice.title":            "Notice",

	"help.title":           "opsbot commands",
	"help.intro":           "Start a command with /; English and Chinese command words both work (/org tree or /组织 树). Tap a topic below.",
	"help.topic":           "{topic} commands",
	"help.org":             "Org and roles",
	"help.general":         "General",
	"err.help_unknown":     "There is no help topic {topic}; type /help for all.",
	"help.whoami":          "Show who you are, your unit and roles",
	"help.help":            "Show help",
	"help.audit":           "Show the audit history of an entity, e.g. user:zhangsan",
	"help.org tree":        "Show the org tree",
	"help.org unit add":    "Add a district, unit or department",
	"help.org unit rename": "Rename a unit",
	"help.org unit remove": "Remove an empty unit",
	"help.org unit merge":  "Merge units (district admins)",
	"help.org user add":    "Add a user",
	"help.org user move":   "Move a user",
	"help.org user remove": "Deactivate a user",
	"help.org user show":   "Show a user",
	"help.org user link":   "Link a WeCom or Slack account",
	"help.org role grant":  "Grant a role",
	"help.org role revoke": "Revoke a role",
}
