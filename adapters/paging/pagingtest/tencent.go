package pagingtest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"opsbot/adapters/paging/tencent"
)

// TencentSMS is a stand-in for Tencent Cloud SMS (SendSms 2021-01-11). It
// checks the TC3-HMAC-SHA256 Authorization the way the "签名方法 v3" page
// describes: the credential's SecretId and scope, the signed headers
// (content-type and host at least), X-TC-Timestamp within 5 minutes and
// on the scope's date, and the signature recomputed from the request.
// Errors come back as Tencent's {"Response":{"Error":…}} with HTTP 200.
type TencentSMS struct {
	*httptest.Server
	failures
	secretID, secretKey string
	now                 func() time.Time

	mu       sync.Mutex
	accepted []json.RawMessage
	seq      int
}

// NewTencentSMS starts a stand-in for the key secretID/secretKey.
func NewTencentSMS(t testing.TB, secretID, secretKey string) *TencentSMS {
	s := &TencentSMS{secretID: secretID, secretKey: secretKey, now: time.Now}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Accepted returns the bodies of the requests accepted so far.
func (s *TencentSMS) Accepted() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.accepted...)
}

func tencentError(w http.ResponseWriter, status int, rid, code, msg string) {
	writeJSON(w, status, map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": rid}})
}

// check verifies r's TC3 signature over body, returning the error code and
// message Tencent Cloud would answer, or "" if it is right.
func (s *TencentSMS) check(r *http.Request, body []byte) (code, msg string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, tencent.Algorithm+" ")
	if !ok {
		return "AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256."
	}
	f := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		f[k] = v
	}
	cred := strings.Split(f["Credential"], "/")
	if len(cred) != 4 || cred[3] != "tc3_request" || f["SignedHeaders"] == "" || f["Signature"] == "" {
		return "AuthFailure.InvalidAuthorization", "Credential, SignedHeaders or Signature is malformed."
	}
	if cred[0] != s.secretID {
		return "AuthFailure.SecretIdNotFound", "The SecretId is not found."
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "InvalidParameter", "X-TC-Timestamp is missing."
	}
	if s.now().Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return "AuthFailure.SignatureExpire", "Signature expired."
	}
	if cred[1]+"/"+cred[2]+"/tc3_request" != tencent.Scope(ts, cred[2]) || cred[2] != "sms" {
		return "AuthFailure.InvalidAuthorization", "The credential scope's date or service is wrong."
	}
	names := strings.Split(f["SignedHeaders"], ";")
	if !sort.StringsAreSorted(names) || !contains(names, "content-type") || !contains(names, "host") {
		return "AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host, sorted."
	}
	var headers []tencent.Header
	for _, n := range names {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		headers = append(headers, tencent.Header{Name: n, Value: v})
	}
	want := tencent.Signature(s.secretKey, ts, cred[2], tencent.CanonicalRequest(r.Method, r.URL.RawQuery, headers, body))
	if subtle.ConstantTimeCompare([]byte(want), []byte(f["Signature"])) != 1 {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."
	}
	return "", ""
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *TencentSMS) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("standin-%04d", s.seq)
	s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if code, msg := s.check(r, body); code != "" {
		tencentError(w, 200, rid, code, msg)
		return
	}
	if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
		tencentError(w, 200, rid, "InvalidAction", "The action or version is not found.")
		return
	}
	var req struct {
		PhoneNumberSet             []string
		SmsSdkAppId, SignName      string //nolint:revive // the API's spelling
		TemplateId, SessionContext string //nolint:revive // the API's spelling
		TemplateParamSet           []string
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.PhoneNumberSet) == 0 || req.SmsSdkAppId == "" || req.TemplateId == "" {
		tencentError(w, 200, rid, "MissingParameter", "PhoneNumberSet, SmsSdkAppId and TemplateId are required.")
		return
	}
	if f, ok := s.pop(); ok {
		if f.Status != 200 {
			tencentError(w, f.Status, rid, f.Code, "stand-in failure")
			return
		}
		if strings.HasPrefix(f.Code, "InternalError") || strings.HasPrefix(f.Code, "RequestLimitExceeded") || strings.HasPrefix(f.Code, "AuthFailure") {
			tencentError(w, 200, rid, f.Code, "stand-in failure")
			return
		}
		writeJSON(w, 200, map[string]any{"Response": map[string]any{"RequestId": rid, "SendStatusSet": []map[string]any{{
			"SerialNo": "", "PhoneNumber": req.PhoneNumberSet[0], "Fee": 0, "SessionContext": req.SessionContext,
			"Code": f.Code, "Message": "stand-in failure", "IsoCode": "CN"}}}})
		return
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, body)
	n := len(s.accepted)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"Response": map[string]any{"RequestId": rid, "SendStatusSet": []map[string]any{{
		"SerialNo": fmt.Sprintf("5000:%019d", n), "PhoneNumber": req.PhoneNumberSet[0], "Fee": 1,
		"SessionContext": req.SessionContext, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}}}})
}
