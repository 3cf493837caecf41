package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/util"

	"opsbot/bot"
)

// APIError is a WeCom answer with a non-zero errcode.
type APIError struct {
	API  string // e.g. "message/send"
	Code int64
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom: %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// Error codes with a meaning for delivery (developer.work.weixin.qq.com
// /document/path/90313).
const (
	codeBusy             = -1    // system busy
	codeInvalidToken     = 40014 // invalid access_token
	codeTokenExpired     = 42001 // access_token expired
	codeFreqLimit        = 45009 // api freq out of limit
	codeMinuteFreqLimit  = 45011 // api minute-freq out of limit
	codeConcurrencyLimit = 45033 // too many concurrent calls
)

// permanentCodes are failures no retry mends: the recipient or the content
// is wrong.
var permanentCodes = []int64{
	40003, // invalid userid
	40008, // invalid message type
	40058, // invalid parameter
	44004, // empty content
	45002, // content too long
	60011, // no privilege (recipient outside the app's visible range)
	60111, // userid not found
	81013, // user, party and tag all invalid
	82001, // no valid recipient
	86003, // chat does not exist
	93000, // invalid webhook url (robot key)
	93004, // robot disabled
}

// classify turns an API error into what the outbox understands: a
// bot.RetryAfterError for rate limits, bot.Permanent for hopeless sends,
// the plain error (retried with backoff) otherwise.
func classify(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Code == codeFreqLimit || ae.Code == codeMinuteFreqLimit || ae.Code == codeConcurrencyLimit:
		return &bot.RetryAfterError{After: time.Minute, Err: err}
	case slices.Contains(permanentCodes, ae.Code):
		return bot.Permanent(err)
	}
	return err
}

var secretParam = regexp.MustCompile(`(access_token|corpsecret|key)=[^&\s"']*`)

// redactedError hides tokens and robot keys that net/http and the library
// put into error texts (they quote the request URL).
type redactedError struct{ err error }

func (e *redactedError) Error() string {
	return secretParam.ReplaceAllString(e.err.Error(), "$1=***")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err}
}

// status is the errcode/errmsg pair of every WeCom answer.
type status struct {
	ErrCode int64  `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// apiClient calls WeCom with an access token kept in Redis.
type apiClient struct {
	base     string
	token    credential.AccessTokenContextHandle
	cache    *tokenCache
	tokenKey string // the library's cache key for this token
	timeout  time.Duration
}

// newAPIClient returns a client for one secret. tag tells tokens of
// different secrets of the same corp apart in the cache.
func newAPIClient(base, corpID, secret, tag string, c *tokenCache, timeout time.Duration) *apiClient {
	return &apiClient{
		base:     base,
		token:    credential.NewWorkAccessToken(corpID, secret, tag, credential.CacheKeyWorkPrefix, c),
		cache:    c,
		tokenKey: fmt.Sprintf("%s_access_token_%s_%s", credential.CacheKeyWorkPrefix, corpID, tag),
		timeout:  timeout,
	}
}

// call sends one request (GET when body is nil) to path with the access
// token, decodes the answer into out (may be nil) and returns an
// *APIError for a non-zero errcode. An invalid or expired token is dropped
// from the cache and the call retried once with a fresh one.
func (c *apiClient) call(ctx context.Context, path string, query url.Values, body, out any) error {
	err := c.once(ctx, path, query, body, out)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == codeInvalidToken || ae.Code == codeTokenExpired) {
		if derr := c.cache.DeleteContext(ctx, c.tokenKey); derr != nil {
			return fmt.Errorf("wecom: drop stale token: %w", derr)
		}
		err = c.once(ctx, path, query, body, out)
	}
	return err
}

func (c *apiClient) once(ctx context.Context, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	tok, err := c.token.GetAccessTokenContext(ctx)
	if err != nil {
		return fmt.Errorf("wecom: get access token: %w", redact(err))
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("access_token", tok)
	return do(ctx, c.base+"/cgi-bin/"+path+"?"+q.Encode(), path, body, out)
}

// do performs one HTTP call and checks errcode.
func do(ctx context.Context, uri, api string, body, out any) error {
	var raw []byte
	var err error
	if body == nil {
		raw, err = util.HTTPGetContext(ctx, uri)
	} else {
		raw, err = util.PostJSONContext(ctx, uri, body)
	}
	if err != nil {
		return fmt.Errorf("wecom: %s: %w", api, redact(err))
	}
	var st status
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("wecom: %s: malformed answer: %w", api, err)
	}
	if st.ErrCode != 0 {
		return &APIError{API: api, Code: st.ErrCode, Msg: st.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("wecom: %s: malformed answer: %w", api, err)
		}
	}
	return nil
}

// postRobot posts to a group robot's webhook. The robot key is the
// credential; no access token is involved. silenceper's robot client
// reports errcode != 0 as success, so errcode is checked here.
func postRobot(ctx context.Context, base, key string, timeout time.Duration, body any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return do(ctx, base+"/cgi-bin/webhook/send?key="+url.QueryEscape(key), "webhook/send", body, nil)
}

// itoa formats an agent id.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
