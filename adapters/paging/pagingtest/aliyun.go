package pagingtest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"opsbot/adapters/paging/aliyun"
)

// Aliyun is a stand-in for Dysmsapi (SendSms) or Dyvmsapi
// (SingleCallByTts, SingleCallByVoice, IvrCall). It checks the RPC signature
// (HMAC-SHA1 over the canonicalised parameters, key secret+"&"), the
// timestamp (±15 min) and the nonce (once only), as Alibaba Cloud does.
type Aliyun struct {
	*httptest.Server
	failures
	keyID, secret string
	actions       map[string]bool
	now           func() time.Time

	mu       sync.Mutex
	nonces   map[string]bool
	accepted []url.Values
	seq      int
}

// NewAliyunSMS starts a Dysmsapi stand-in for the AccessKey keyID/secret.
func NewAliyunSMS(t testing.TB, keyID, secret string) *Aliyun {
	return newAliyun(t, keyID, secret, "SendSms")
}

// NewAliyunVoice starts a Dyvmsapi stand-in for the AccessKey keyID/secret.
func NewAliyunVoice(t testing.TB, keyID, secret string) *Aliyun {
	return newAliyun(t, keyID, secret, "SingleCallByTts", "SingleCallByVoice", "IvrCall")
}

func newAliyun(t testing.TB, keyID, secret string, actions ...string) *Aliyun {
	a := &Aliyun{keyID: keyID, secret: secret, actions: map[string]bool{}, nonces: map[string]bool{}, now: time.Now}
	for _, x := range actions {
		a.actions[x] = true
	}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

// Accepted returns the parameters of the requests accepted so far.
func (a *Aliyun) Accepted() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.accepted...)
}

// aliyunError is Alibaba Cloud's error body.
func aliyunError(w http.ResponseWriter, status int, requestID, code, msg string) {
	writeJSON(w, status, map[string]string{"RequestId": requestID, "HostId": "127.0.0.1", "Code": code, "Message": msg,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + code})
}

func (a *Aliyun) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seq++
	rid := fmt.Sprintf("STANDIN-%04d", a.seq)
	a.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		aliyunError(w, 400, rid, "InvalidParameter", err.Error())
		return
	}
	q := r.Form
	for _, p := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Format"} {
		if q.Get(p) == "" {
			aliyunError(w, 400, rid, "MissingParameter", "The input parameter \""+p+"\" that is mandatory for processing this request is not supplied.")
			return
		}
	}
	if q.Get("AccessKeyId") != a.keyID {
		aliyunError(w, 404, rid, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	if q.Get("SignatureMethod") != "HMAC-SHA1" || q.Get("SignatureVersion") != "1.0" {
		aliyunError(w, 400, rid, "InvalidSignatureMethod", "Specified signature method is not valid.")
		return
	}
	want := aliyun.Sign(r.Method, q, a.secret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(q.Get("Signature"))) != 1 {
		aliyunError(w, 400, rid, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+aliyun.StringToSign(r.Method, q))
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", q.Get("Timestamp"))
	if err != nil || a.now().Sub(ts).Abs() > 15*time.Minute {
		aliyunError(w, 400, rid, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	a.mu.Lock()
	used := a.nonces[q.Get("SignatureNonce")]
	a.nonces[q.Get("SignatureNonce")] = true
	a.mu.Unlock()
	if used {
		aliyunError(w, 400, rid, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}
	if !a.actions[q.Get("Action")] || q.Get("Version") != "2017-05-25" {
		aliyunError(w, 400, rid, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	if f, ok := a.pop(); ok {
		aliyunError(w, f.Status, rid, f.Code, "stand-in failure "+f.Code)
		return
	}
	a.mu.Lock()
	a.accepted = append(a.accepted, q)
	n := len(a.accepted)
	a.mu.Unlock()
	if q.Get("Action") != "SendSms" {
		writeJSON(w, 200, map[string]string{"Code": "OK", "Message": "OK", "RequestId": rid, "CallId": fmt.Sprintf("1160%08d^1028%06d", n, n)})
		return
	}
	writeJSON(w, 200, map[string]string{"Code": "OK", "Message": "OK", "RequestId": rid, "BizId": fmt.Sprintf("9006%08d^0", n)})
}
