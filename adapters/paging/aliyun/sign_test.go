package aliyun

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignDocumentedExample checks Sign against the worked example of
// Alibaba Cloud's "签名机制" (RPC) page: DescribeRegions signed with
// AccessKeyId "testid" and AccessKeySecret "testsecret".
func TestSignDocumentedExample(t *testing.T) {
	q := url.Values{
		"Timestamp": {"2016-02-23T12:46:24Z"}, "Format": {"XML"}, "AccessKeyId": {"testid"},
		"Action": {"DescribeRegions"}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "Version": {"2014-05-26"},
		"SignatureVersion": {"1.0"},
	}
	require.Equal(t, "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"+
		"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"+
		"%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
		StringToSign("GET", q))
	require.Equal(t, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=", Sign("GET", q, "testsecret"))
	q.Set("Signature", "ignored")
	require.Equal(t, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=", Sign("GET", q, "testsecret"), "Signature itself is not signed")
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a b": "a%20b", "a*b": "a%2Ab", "a~b": "a~b", "a+b": "a%2Bb", "/": "%2F",
		"事件": "%E4%BA%8B%E4%BB%B6", `{"id":"1"}`: "%7B%22id%22%3A%221%22%7D",
	} {
		require.Equal(t, want, PercentEncode(in), in)
	}
}
