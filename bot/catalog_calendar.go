package bot

// The calendar domain's texts. Every key has a zh-CN and an en text
// (TestCatalogsMatch).

var zhCalendar = catalog{
	// Calendar.
	"help.calendar show":     "查看某年的法定节假日与调休",
	"help.calendar set":      "把某天设为工作日或节假日（系统总管理员）",
	"help.calendar import":   "导入国务院办公厅公布的放假安排（系统总管理员）：命令后每行一天，如“2027-01-01 holiday 元旦”“2027-02-07 workday 春节调休”；导入后该年不再按法定节日推算，未结工单的期限随之重算",
	"calendar.title":         "{year} 年工作日历",
	"calendar.workday":       "调休上班",
	"calendar.holiday":       "放假",
	"calendar.no_data":       "{year} 年没有节假日数据（正式放假安排未公布）：暂按法定节日推算（元旦、春节、清明、劳动节、端午、中秋、国庆，不含调休），据此计算的期限标为“暂定”。通知发布后请用 /calendar import 导入。",
	"calendar.computed":      "放假（推算）",
	"calendar.imported":      "已导入 {years} 年的放假安排，共 {days} 天。",
	"calendar.recomputed":    "已重算 {count} 张未结工单的期限。",
	"err.schedule_line":      "第 {line} 行：“{value}”不是 YYYY-MM-DD 格式的日期。每行应为“日期 holiday|workday [名称]”。",
	"err.schedule_kind":      "第 {line} 行：“{value}”应为 holiday（放假）或 workday（上班）。",
	"err.schedule_twice":     "第 {line} 行：{value} 重复出现。",
	"err.schedule_empty":     "没有可导入的日期：命令后每行一天，如“2027-01-01 holiday 元旦”。",
	"calendar.set":           "{date} 已设为{kind}。",
	"calendar.missing.title": "{year} 年节假日数据缺失",
	"calendar.missing":       "工作日历还没有 {year} 年的法定节假日和调休安排，届时暂按法定节日推算（不含调休），相关工单期限标为“暂定”。国务院办公厅通知发布后，请用 /calendar import 导入（每行“日期 holiday|workday 名称”），或用 /calendar set <日期> holiday|workday 逐日录入。",
}

var enCalendar = catalog{
	// Calendar.
	"help.calendar show":     "Statutory holidays and make-up workdays of a year",
	"help.calendar set":      "Make a day a workday or a holiday (sys admin)",
	"help.calendar import":   "Load the State Council's holiday schedule (sys admin): one day a line after the command, e.g. \"2027-01-01 holiday 元旦\", \"2027-02-07 workday 春节调休\"; the year is then no longer computed and open ticket deadlines are recomputed",
	"calendar.title":         "Working calendar {year}",
	"calendar.workday":       "worked (make-up day)",
	"calendar.holiday":       "off",
	"calendar.no_data":       "There is no official holiday schedule for {year} yet: the statutory holidays are computed from the national rules (New Year, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn, National Day; no make-up days) and deadlines counted with them are provisional. Load the schedule with /calendar import once announced.",
	"calendar.computed":      "off (computed)",
	"calendar.imported":      "Loaded the holiday schedule of {years}: {days} days.",
	"calendar.recomputed":    " Recomputed the deadlines of {count} open tickets.",
	"err.schedule_line":      "Line {line}: \"{value}\" is not a YYYY-MM-DD date. Each line is \"date holiday|workday [name]\".",
	"err.schedule_kind":      "Line {line}: \"{value}\" should be holiday or workday.",
	"err.schedule_twice":     "Line {line}: {value} is listed twice.",
	"err.schedule_empty":     "Nothing to load: one day a line after the command, e.g. \"2027-01-01 holiday 元旦\".",
	"calendar.set":           "{date} is now {kind}.",
	"calendar.missing.title": "No holiday data for {year}",
	"calendar.missing":       "The working calendar has no official holidays or make-up days for {year}; until then the statutory holidays are computed (no make-up days) and ticket deadlines through {year} are provisional. Load the State Council's schedule with /calendar import (one \"date holiday|workday name\" a line) or enter days with /calendar set <date> holiday|workday once announced.",
}
