package bot

// The duty calendar's and its iCal feeds' texts. Every key has a zh-CN
// and an en text (TestCatalogsMatch).

var zhConsoleDuty = catalog{
	"help.duty ical":              "值班日历订阅：在 Outlook、Google 日历、苹果日历中订阅值班表。不带参数为“我的班次”（你在各轮换中的班次），带轮换名为该轮换的全部班次；地址只显示这一次，新地址使旧地址失效",
	"help.duty ical revoke":       "停用你的全部值班日历订阅，原地址立即失效",
	"ical.created.mine.title":     "值班日历订阅：我的班次",
	"ical.created.rotation.title": "值班日历订阅：{rotation}",
	"ical.what.mine":              "你在各值班轮换中的班次",
	"ical.what.rotation":          "轮换 {rotation} 的全部班次",
	"ical.created":                "{what}的订阅地址（只显示这一次；地址即凭据，请勿转发）：\n{url}\n\nOutlook：添加日历 → 从 Internet 订阅；Google 日历：其他日历 → 通过网址添加；苹果日历：文件 → 新建日历订阅，或在苹果设备上打开 {webcal}\n日历包含过去 30 天到未来 90 天的班次，调班后自动更新。你之前的同类订阅地址已失效；/duty ical revoke 可随时停用。",
	"ical.revoked":                "已停用你的 {n} 个值班日历订阅，原地址立即失效（返回 404）。",
	"ical.none":                   "你没有有效的值班日历订阅。/duty ical 可创建。",
	"ical.name.rotation":          "值班：{rotation}",
	"ical.name.mine":              "我的值班：{name}",
	"ical.desc":                   "opsbot 值班表，{from} 至 {to}",
	"ical.summary":                "值班：{rotation} {name}",
	"ical.description":            "主班：{primary}（{primary_id}）\n副班：{secondary}（{secondary_id}）",
	"ical.swapped":                "已调班",
	"err.feed_in_channel":         "日历订阅地址只能私下发给本人：请在与机器人的单聊中使用 /duty ical。",
	"err.feed_not_found":          "日历订阅 #{id} 不存在或已停用。",
}

var enConsoleDuty = catalog{
	"help.duty ical":              "Subscribe to the duty schedule in Outlook, Google Calendar or Apple Calendar: without arguments your own shifts on every rotation, with a rotation all of its shifts; the URL is shown once and a new one ends the old",
	"help.duty ical revoke":       "End all your duty calendar subscriptions; their URLs stop working at once",
	"ical.created.mine.title":     "Duty calendar: my shifts",
	"ical.created.rotation.title": "Duty calendar: {rotation}",
	"ical.what.mine":              "your shifts on every rotation",
	"ical.what.rotation":          "every shift of rotation {rotation}",
	"ical.created":                "Subscription URL for {what} (shown this once; the URL is the credential, do not forward it):\n{url}\n\nOutlook: Add calendar → Subscribe from web; Google Calendar: Other calendars → From URL; Apple Calendar: File → New Calendar Subscription, or open {webcal} on an Apple device.\nThe calendar holds the shifts from 30 days back to 90 days ahead and follows swaps. Your previous URL of this kind no longer works; /duty ical revoke ends it any time.",
	"ical.revoked":                "Ended {n} of your duty calendar subscriptions; their URLs stop working at once (404).",
	"ical.none":                   "You have no live duty calendar subscriptions. /duty ical makes one.",
	"ical.name.rotation":          "Duty: {rotation}",
	"ical.name.mine":              "My duty shifts: {name}",
	"ical.desc":                   "opsbot duty schedule, {from} to {to}",
	"ical.summary":                "On duty: {rotation} {name}",
	"ical.description":            "Primary: {primary} ({primary_id})\nSecondary: {secondary} ({secondary_id})",
	"ical.swapped":                "Swapped",
	"err.feed_in_channel":         "A calendar subscription URL is sent to its owner only: use /duty ical in a direct chat with the bot, not in a group or channel.",
	"err.feed_not_found":          "Calendar subscription #{id} does not exist or was ended.",
}
