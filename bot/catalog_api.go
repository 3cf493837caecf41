package bot

// The REST API's own error texts (adapters/api): what goes wrong before a
// core service is called. Every key has a zh-CN and an en text
// (TestCatalogsMatch).

var zhAPI = catalog{
	"err.api_bad_json":        "请求体不是有效的 JSON 对象（{detail}）。",
	"err.api_bad_param":       "参数 {name} 无效，应为：{want}。",
	"err.api_param_required":  "缺少参数 {name}。",
	"err.api_body_too_large":  "请求体过大（上限 {max} 字节）。",
	"err.api_unauthenticated": "未登录或凭据无效：请使用有效的 API 令牌（Authorization: Bearer opsb_…）或重新登录。",
	"err.api_rate_limited":    "请求过于频繁，请 {seconds} 秒后重试。",
	"err.read_only_token":     "此令牌只读，不能修改数据；请使用可写（write）令牌。",
}

var enAPI = catalog{
	"err.api_bad_json":        "The request body is not a valid JSON object ({detail}).",
	"err.api_bad_param":       "Parameter {name} is not valid; expected: {want}.",
	"err.api_param_required":  "Parameter {name} is missing.",
	"err.api_body_too_large":  "The request body is too large (at most {max} bytes).",
	"err.api_unauthenticated": "Not signed in or the credentials are not valid: use a valid API token (Authorization: Bearer opsb_…) or sign in again.",
	"err.api_rate_limited":    "Too many requests; retry in {seconds} s.",
	"err.read_only_token":     "This token is read-only and cannot change anything; use a write token.",
}
