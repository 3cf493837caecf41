package tencent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignatureDocumentedExample checks the TC3 steps against the worked
// example of Tencent Cloud's "签名方法 v3" page: CVM DescribeInstances at
// 1551113065 with SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE and
// SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE.
func TestSignatureDocumentedExample(t *testing.T) {
	body := []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`)
	headers := []Header{{"content-type", "application/json; charset=utf-8"}, {"host", "cvm.tencentcloudapi.com"}}
	canonical := CanonicalRequest("POST", "", headers, body)
	require.Equal(t, "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n"+
		"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064", canonical)
	require.Equal(t, "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"+
		"5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031", StringToSign(1551113065, "cvm", canonical))
	require.Equal(t, "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "+
		"SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
		Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm", 1551113065, headers, canonical))
}
