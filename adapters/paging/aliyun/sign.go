package aliyun

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// The signature is Alibaba Cloud's RPC-style signature (SignatureVersion
// 1.0, HMAC-SHA1), written here from the "签名机制" documentation rather
// than taken from an SDK: the alibabacloud-go dysmsapi/dyvmsapi SDKs are not
// served by the module proxy this project builds from, Dysmsapi and
// Dyvmsapi 2017-05-25 are RPC APIs that still accept this style, and the
// documentation gives a worked example (AccessKeySecret "testsecret") that
// sign_test.go checks, so a mistake here cannot pass unnoticed. The newer
// ACS3-HMAC-SHA256 would need the same amount of code and has no worked
// example with a published secret to test against.

// PercentEncode encodes s as the RPC signature wants: RFC 3986 unreserved
// characters (A–Z a–z 0–9 - _ . ~) stay, everything else becomes %XY of its
// UTF-8 bytes, upper-case hex ("+" → %2B, space → %20, "*" → %2A).
func PercentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// CanonicalQuery sorts the parameters by name (without Signature) and
// joins them as name=value with both percent-encoded.
func CanonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, PercentEncode(k)+"="+PercentEncode(q.Get(k)))
	}
	return strings.Join(parts, "&")
}

// StringToSign is METHOD&%2F&percentEncode(canonical query).
func StringToSign(method string, q url.Values) string {
	return method + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalQuery(q))
}

// Sign returns Base64(HMAC-SHA1(secret + "&", StringToSign)).
func Sign(method string, q url.Values, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(StringToSign(method, q)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
