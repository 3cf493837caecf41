package bot

// The texts of input help: suggestions and names that stand for users.
// Every key has a zh-CN and an en text (TestCatalogsMatch).

var zhInput = catalog{
	"err.did_you_mean":   "您是不是要输入：{choices}？",
	"list.or":            " 或 ",
	"list.sep":           "、",
	"err.user_ambiguous": "有多位用户名为“{name}”：{choices}。请改用用户账号。",
}

var enInput = catalog{
	"err.did_you_mean":   "Did you mean: {choices}?",
	"list.or":            " or ",
	"list.sep":           "; ",
	"err.user_ambiguous": "Several users are named \"{name}\": {choices}. Give the user id instead.",
}
