package bot

import (
	"strings"
	"unicode"
)

// parseError says where a command line is malformed.
type parseError struct{ code string }

func (e *parseError) Error() string { return e.code }

// tokenize splits a command line into words. "…" and “…” keep spaces and
// every character they hold. Outside quotes the line is read as a Chinese
// input method types it (see normalRune): full-width slashes, digits and
// spaces count as ASCII; a word starting with em dashes (—, ——) or
// full-width hyphens (－－) is a flag; ： and － between digits (09：00,
// 2026－12－01) are : and -. Elsewhere ：, — and － stay as typed, so free
// text keeps its punctuation.
func tokenize(line string) ([]string, error) {
	rs := []rune(strings.TrimSpace(line))
	var out []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if quote == 0 {
			if (r == '—' || r == '－') && !inWord {
				// A flag prefix: any run of em dashes or full-width hyphens.
				for i+1 < len(rs) && (rs[i+1] == '—' || rs[i+1] == '－' || rs[i+1] == '-') {
					i++
				}
				cur.WriteString("--")
				inWord = true
				continue
			}
			if i > 0 && i+1 < len(rs) && isDigit(rs[i-1]) && isDigit(rs[i+1]) {
				switch r {
				case '：':
					r = ':'
				case '－':
					r = '-'
				}
			}
			r = normalRune(r)
		}
		switch {
		case quote != 0:
			if r == quote || (quote == '“' && r == '”') {
				quote = 0
				continue
			}
			cur.WriteRune(r)
		case r == '"' || r == '“':
			quote, inWord = r, true
		case unicode.IsSpace(r):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, &parseError{"unclosed_quote"}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// isDigit reports whether r is an ASCII or a full-width digit.
func isDigit(r rune) bool { return (r >= '0' && r <= '9') || (r >= '０' && r <= '９') }

// normalRune maps the full-width forms a Chinese input method types that
// mean the same anywhere onto their ASCII twins: ／, ０-９ and the
// full-width, ideographic and no-break spaces.
func normalRune(r rune) rune {
	switch {
	case r == '／':
		return '/'
	case r >= '０' && r <= '９':
		return '0' + (r - '０')
	case r == '\u3000' || r == '\u00a0' || r == '\u2002' || r == '\u2003':
		return ' '
	}
	return r
}

// aliases maps Chinese command words onto the English grammar.
var aliases = map[string]string{
	"帮助": "help", "我是谁": "whoami", "组织": "org", "单位": "unit", "用户": "user", "角色": "role",
	"树": "tree", "架构": "tree", "添加": "add", "新增": "add", "改名": "rename", "重命名": "rename",
	"删除": "remove", "移除": "remove", "合并": "merge", "移动": "move", "调动": "move", "查看": "show",
	"授权": "grant", "授予": "grant", "撤销": "revoke", "收回": "revoke", "关联": "link", "审计": "audit",
	"同步": "sync", "日历": "calendar", "工单": "ticket", "设置": "set",
	"巡检": "inspect", "计划": "plan", "上报": "report", "报告": "report", "记录": "log", "列表": "list",
	"备份": "backup", "验证": "verify", "恢复测试": "verify", "简报": "digest", "检查": "check", "整改": "action", "完成": "done", "日报": "digest",
	"订阅": "subscribe", "退订": "unsubscribe", "今天": "today", "昨天": "yesterday",
	"网页版": "webchat", "登录": "link", "注销": "logout", "频道": "channel",
	"令牌": "token", "创建": "create", "吊销": "revoke", "服务": "service",
	"值班": "duty", "日历订阅": "ical", "停用": "revoke", "公告": "notice",
	"问题": "problem", "事件": "incident", "指派": "assign", "分派": "assign", "分析": "analyse", "根因": "cause", "解决": "resolve", "关闭": "close", "措施": "action",
	"预案": "plan", "评估": "review", "演练": "drill", "安排": "schedule", "登记": "record", "预警": "warning", "发布": "issue", "解除": "lift", "周期任务": "duty-task",
	"执行": "run", "立即执行": "run",
	"应用": "app", "授权情况": "access", "访问": "access", "查阅": "access", "确认": "confirm", "上线": "online", "下线": "offline",
	"公示": "publish", "发布公告": "publish", "发版": "release", "新版本": "release", "注册": "register", "系统测试": "systest", "验收": "uat", "验收测试": "uat",
	"检查点": "checkpoint", "导出": "export", "申请": "request", "导入": "import", "变更": "change", "新建": "new", "开始": "start", "实施": "start",
	"整改清单": "actions", "交班": "handover", "交接": "handover", "当前": "now", "现在": "now", "策略": "policy", "升级策略": "policy",
	"轮换": "rotation", "轮班": "rotation", "调班": "swap", "换班": "swap", "认领": "ack", "申报": "declare", "上升": "escalate", "升级": "escalate",
	"等级": "level", "级别": "level", "控制": "mitigate", "缓解": "mitigate", "进展": "update", "更新": "update", "操作": "op", "报表": "report",
	"答复": "answer", "转交": "forward", "转办": "forward", "提交": "open", "回复": "reply", "等待": "wait", "挂起": "wait",
	"语言": "lang", "联系方式": "contact", "免打扰": "quiet",
	"同意": "approve", "批准": "approve", "驳回": "reject", "拒绝": "reject", "撤回": "cancel", "取消": "cancel", "复核": "review", "显示": "show",
}

// scopedAliases maps a Chinese word onto an English one after a given
// path only, where the word means something else there than elsewhere
// ("/报表 事件" is the incident report, "/事件" the incident commands).
var scopedAliases = map[string]map[string]string{
	"report": {"事件": "incidents", "巡检": "inspections"},
}

// flagAliases maps Chinese flag names onto the English ones.
var flagAliases = map[string]string{
	"上级": "parent", "级别": "level", "单位": "unit", "范围": "scope", "平台": "platform", "账号": "id",
	"有效期": "expires", "用户": "user", "页": "page",
	"存放位置": "location", "保留期限": "retention", "备份方式": "method", "责任人": "owner",
	"期限": "due", "变更": "change", "引用": "ref",
	"文件": "file", "参演": "participants", "问题": "findings", "周期": "every", "截止": "due",
}

// valueAliases maps Chinese values of enumerations onto the English ones.
var valueAliases = map[string]string{
	"短信": "sms", "手机": "sms", "电话": "voice", "语音": "voice", "邮件": "email", "邮箱": "email",
	"区县": "district", "县市区": "district", "单位": "unit", "部门": "department",
	"系统管理员": "sys_admin", "系统总管理员": "sys_admin", "分级管理员": "district_admin",
	"单位管理员": "unit_admin", "单位联络人": "unit_contact", "运营方": "operator", "接入方": "access_party",
	"企业微信": "wecom", "只读": "read", "读写": "write",
}

func canonicalWord(w string) string {
	if a, ok := aliases[w]; ok {
		return a
	}
	return strings.ToLower(w)
}

// canonicalNext returns the English word for w after the English words
// of parent.
func canonicalNext(parent []string, w string) string {
	if a, ok := scopedAliases[strings.Join(parent, " ")][w]; ok {
		return a
	}
	return canonicalWord(w)
}

// canonicalPath returns the English words of a command line's words, each
// read in the position it stands.
func canonicalPath(tokens []string) []string {
	words := make([]string, len(tokens))
	for i, t := range tokens {
		words[i] = canonicalNext(words[:i], t)
	}
	return words
}

func canonicalValue(v string) string {
	if a, ok := valueAliases[v]; ok {
		return a
	}
	return v
}

// splitList splits a list flag ("a,b，c、d") into its parts.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' })
}
