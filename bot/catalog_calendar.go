package bot

// The calendar domain's texts. Every key has a zh-CN and an en text
// (TestCatalogsMatch).

var zhCalendar = catalog{
	// Calendar.
	"help.calendar show":     "查看某年的法定节假日与调休",
	"help.calendar set":      "把某天设为工作日或节假日（系统总管理员）",
	"calendar.title":         "{year} 年工作日历",
	"calendar.workday":       "调休上班",
	"calendar.holiday":       "放假",
	"calendar.no_data":       "{year} 年没有节假日数据，目前只按周末计算，请用 /calendar set 补充。",
	"calendar.set":           "{date} 已设为{kind}。",
	"calendar.missing.title": "{year} 年节假日数据缺失",
	"calendar.missing":       "工作日历还没有 {year} 年的法定节假日和调休安排，届时 SLA、提醒和值班只会按周末计算。国务院办公厅通知发布后，请用 /calendar set <日期> holiday|workday 录入。",
}

var enCalendar = catalog{
	// Calendar.
	"help.calendar show":     "Statutory holidays and make-up workdays of a year",
	"help.calendar set":      "Make a day a workday or a holiday (sys admin)",
	"calendar.title":         "Working calendar {year}",
	"calendar.workday":       "worked (make-up day)",
	"calendar.holiday":       "off",
	"calendar.no_data":       "There is no holiday data for {year}; only weekends count. Add days with /calendar set.",
	"calendar.set":           "{date} is now {kind}.",
	"calendar.missing.title": "No holiday data for {year}",
	"calendar.missing":       "The working calendar has no statutory holidays or make-up days for {year}; SLAs, reminders and rotations would count weekends only. Enter them with /calendar set <date> holiday|workday once announced.",
}
