package bot

// The delivery report's texts. Every key has a zh-CN and an en text
// (TestCatalogsMatch).

var zhDelivery = catalog{
	"delivery.failures.title":   "{count} 条通知投递失败",
	"delivery.failures":         "自 {since} 以来，有 {count} 条通知在某个平台上投递失败且无法重试；已改投用户的下一个平台（至少网页聊天）。请检查平台配置和用户的账号绑定：",
	"delivery.failures.line":    "- {platform}：{count} 条",
	"delivery.failures.nowhere": "没有可用平台",
}

var enDelivery = catalog{
	"delivery.failures.title":   "{count} notices failed to deliver",
	"delivery.failures":         "Since {since}, {count} notices failed for good on a platform; each went to the user's next platform (webchat at least). Check the platform settings and the users' linked accounts:",
	"delivery.failures.line":    "- {platform}: {count}",
	"delivery.failures.nowhere": "no platform",
}
