package bot

// The console's trends and audit pages (adapters/console): error texts of
// core/trend and the labels the pages and charts show. Every key has a
// zh-CN and an en text (TestCatalogsMatch).

var zhConsoleTrends = catalog{
	"console.link":    "控制台",
	"err.trend_range": "时间范围 {value} 无效，可选：14d（近 14 天）、3m（近 3 个月）、12m（近 12 个月）。",
}

var enConsoleTrends = catalog{
	"console.link":    "Console",
	"err.trend_range": "Range {value} is not valid; choose 14d (last 14 days), 3m (last 3 months) or 12m (last 12 months).",
}
