package tencent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// TC3-HMAC-SHA256, written here from Tencent Cloud's "签名方法 v3"
// documentation and tested against its worked example (sign_test.go). The
// served module github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common
// signs only inside its Client (the TC3 steps are unexported), and the sms
// package is a separate module; pulling a whole SDK client in to send one
// JSON POST would still leave the stand-in needing the steps below to
// verify requests, so they are written once here and used by both.

// Algorithm is the signature algorithm's name.
const Algorithm = "TC3-HMAC-SHA256"

// Header is one signed request header; Name is lower-case.
type Header struct{ Name, Value string }

// CanonicalRequest is method, "/", query, the signed headers as
// name:value lines (lower-case, trimmed, in the given order, which must be
// ascending), the signed header names joined by ";", and the body's
// SHA-256 in hex.
func CanonicalRequest(method, query string, headers []Header, body []byte) string {
	var ch strings.Builder
	names := make([]string, 0, len(headers))
	for _, h := range headers {
		ch.WriteString(strings.ToLower(strings.TrimSpace(h.Name)) + ":" + strings.ToLower(strings.TrimSpace(h.Value)) + "\n")
		names = append(names, strings.ToLower(h.Name))
	}
	sum := sha256.Sum256(body)
	return method + "\n/\n" + query + "\n" + ch.String() + "\n" + strings.Join(names, ";") + "\n" + hex.EncodeToString(sum[:])
}

// Scope is date/service/tc3_request, the date being the UTC day of ts.
func Scope(ts int64, service string) string {
	return time.Unix(ts, 0).UTC().Format("2006-01-02") + "/" + service + "/tc3_request"
}

// StringToSign is the algorithm, the timestamp, the scope and the
// canonical request's SHA-256 in hex, one a line.
func StringToSign(ts int64, service, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + strconv.FormatInt(ts, 10) + "\n" + Scope(ts, service) + "\n" + hex.EncodeToString(sum[:])
}

// Signature derives the signing key from secretKey, the date and the
// service, and signs StringToSign with it (hex).
func Signature(secretKey string, ts int64, service, canonical string) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, StringToSign(ts, service, canonical)))
}

// Authorization is the Authorization header's value.
func Authorization(secretID, secretKey, service string, ts int64, headers []Header, canonical string) string {
	names := make([]string, 0, len(headers))
	for _, h := range headers {
		names = append(names, strings.ToLower(h.Name))
	}
	return Algorithm + " Credential=" + secretID + "/" + Scope(ts, service) + ", SignedHeaders=" + strings.Join(names, ";") +
		", Signature=" + Signature(secretKey, ts, service, canonical)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
