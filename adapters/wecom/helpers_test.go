package wecom

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/wecom/wecomtest"
	"opsbot/bot"
	"opsbot/storage/postgres"
	"opsbot/storage/postgres/pgtest"
	"opsbot/storage/redis"
	"opsbot/storage/redis/redistest"
)

// Test credentials (not real ones).
const (
	testCorpID  = "ww0123456789abcdef"
	testAgentID = 1000002
	testToken   = "opsbotTestToken"
)

var testAESKey = strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), "=")

// apiCall is one request the fake WeCom API received.
type apiCall struct {
	Path  string
	Query url.Values
	Body  map[string]any
}

// str digs a string out of a decoded JSON body by keys.
func (c apiCall) str(keys ...string) string {
	var v any = c.Body
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// fakeWeCom stands in for qyapi.weixin.qq.com.
type fakeWeCom struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	tokens  int
	codes   int
	errs    map[string][]int64 // path → errcodes to answer next, in order
	status  map[string][]int   // path → HTTP statuses to answer next, in order
	refused []string           // requests wecomtest.CheckRequest refused
	// refusalsExpected turns off the end-of-test check that nothing was refused.
	refusalsExpected bool
	depts            []Department
	members          map[int64][]Member
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	t.Helper()
	f := &fakeWeCom{errs: map[string][]int64{}, status: map[string][]int{}, members: map[int64][]Member{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.refused) > 0 && !t.Failed() && !f.refusalsExpected {
			t.Errorf("the WeCom stand-in refused requests as WeCom would:\n%s", strings.Join(f.refused, "\n"))
		}
	})
	return f
}

func (f *fakeWeCom) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if path == "gettoken" {
		f.tokens++
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "access_token": fmt.Sprintf("tok-%d", f.tokens), "expires_in": 7200})
		return
	}
	call := apiCall{Path: path, Query: r.URL.Query()}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &call.Body)
	}
	f.calls = append(f.calls, call)
	if path != "webhook/send" && call.Query.Get("access_token") == "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 41001, "errmsg": "access_token missing"})
		return
	}
	if q := f.status[path]; len(q) > 0 {
		f.status[path] = q[1:]
		if q[0] != 0 { // 0: answer this call normally
			w.WriteHeader(q[0])
			return
		}
	}
	if err := wecomtest.CheckRequest(path, call.Body); err != nil {
		f.refused = append(f.refused, path+": "+err.Error())
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": wecomtest.CodeInvalidParameter, "errmsg": err.Error()})
		return
	}
	if q := f.errs[path]; len(q) > 0 {
		f.errs[path] = q[1:]
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": q[0], "errmsg": "injected"})
		return
	}
	out := map[string]any{"errcode": 0, "errmsg": "ok"}
	switch path {
	case "message/send":
		out["msgid"] = fmt.Sprintf("msg-%d", len(f.calls))
		if call.Body["msgtype"] == "template_card" {
			f.codes++
			out["response_code"] = fmt.Sprintf("rc-%d", f.codes)
		}
	case "media/upload":
		if !bytes.Contains(raw, []byte("\x89PNG")) || call.Query.Get("type") != "image" {
			out = map[string]any{"errcode": 40004, "errmsg": "invalid media"}
			break
		}
		out["type"], out["media_id"] = "image", "media-1"
	case "department/list":
		out["department"] = f.depts
	case "user/list":
		var id int64
		_, _ = fmt.Sscan(call.Query.Get("department_id"), &id)
		out["userlist"] = f.members[id]
	}
	_ = json.NewEncoder(w).Encode(out)
}

// fail makes the next calls to path answer these errcodes.
func (f *fakeWeCom) fail(path string, codes ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[path] = append(f.errs[path], codes...)
}

// failHTTP makes the next calls to path answer these HTTP statuses.
func (f *fakeWeCom) failHTTP(path string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[path] = append(f.status[path], statuses...)
}

// callsTo returns the calls made to path so far.
func (f *fakeWeCom) callsTo(path string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeWeCom) tokenFetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

// fakeHandler is the bot: it records events and answers with reply.
type fakeHandler struct {
	mu     sync.Mutex
	events []bot.Event
	reply  func(ev bot.Event) []bot.Message
}

func (h *fakeHandler) Handle(_ context.Context, ev bot.Event) []bot.Message {
	h.mu.Lock()
	h.events = append(h.events, ev)
	reply := h.reply
	h.mu.Unlock()
	if reply == nil {
		return nil
	}
	return reply(ev)
}

func (h *fakeHandler) seen() []bot.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Event(nil), h.events...)
}

// deferredReply is one reply handed to the Deferrer.
type deferredReply struct {
	Platform, User string
	Message        bot.Message
}

// fakeDeferrer records the replies the adapter could not send at once.
type fakeDeferrer struct {
	mu      sync.Mutex
	replies []deferredReply
}

func (d *fakeDeferrer) Defer(_ context.Context, platform, userRef string, m bot.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replies = append(d.replies, deferredReply{Platform: platform, User: userRef, Message: m})
	return nil
}

func (d *fakeDeferrer) seen() []deferredReply {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]deferredReply(nil), d.replies...)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is what a test works with.
type bundle struct {
	a        *Adapter
	api      *fakeWeCom
	bot      *fakeHandler
	store    *postgres.Store
	refs     *postgres.PlatformMessages
	clock    *fakeClock
	mux      *http.ServeMux
	deferred *fakeDeferrer
}

// setup returns an adapter on a fake WeCom API, a real Postgres schema and
// Redis database 8 under a fresh key prefix. Tests here do not run in
// parallel: util.SetURIModifier is process-wide.
func setup(t *testing.T, tweak ...func(*Config)) *bundle {
	t.Helper()
	api := newFakeWeCom(t)
	store := pgtest.New(t)
	rdb := redistest.Client(t, 8)
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	cfg := Config{
		CorpID: testCorpID, AgentID: testAgentID, Secret: "s3cret", Token: testToken, EncodingAESKey: testAESKey,
		APIBase: api.srv.URL, KeyPrefix: redistest.Name("wecom") + ":", Now: clock.Now,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	h := &fakeHandler{}
	refs := store.PlatformMessages()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	deferrer := &fakeDeferrer{}
	a, err := New(cfg, h, refs, redis.NewShared(rdb), deferrer, logger)
	require.NoError(t, err)
	t.Cleanup(a.Wait)
	mux := http.NewServeMux()
	a.Routes(mux)
	return &bundle{a: a, api: api, bot: h, store: store, refs: refs, clock: clock, mux: mux, deferred: deferrer}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// encrypt seals msg the way WeCom does, written independently of the
// library: AES-256-CBC, IV = key[:16], PKCS#7 padding to 32 bytes over
// random(16) + len(msg) (4 bytes, big endian) + msg + corpID.
func encrypt(t testing.TB, msg, corpID string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(testAESKey + "=")
	require.NoError(t, err)
	var buf bytes.Buffer
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	buf.Write(random)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.WriteString(msg)
	buf.WriteString(corpID)
	pad := 32 - buf.Len()%32
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	out := make([]byte, buf.Len())
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, buf.Bytes())
	return base64.StdEncoding.EncodeToString(out)
}

// sign computes msg_signature: sha1 over the sorted, concatenated parts.
func sign(parts ...string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	sum := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(sum[:])
}

// testNow is the unix time the test clock starts at (2026-03-02 09:00 UTC),
// the timestamp of callbackRequest.
const testNow = 1772442000

// callbackRequest builds a signed, encrypted callback POST for msg, sent
// at the test clock's start.
func callbackRequest(t testing.TB, msg string) *http.Request {
	t.Helper()
	return callbackRequestAt(t, msg, testNow)
}

// callbackRequestAt builds a signed, encrypted callback POST for msg
// carrying timestamp ts (unix seconds).
func callbackRequestAt(t testing.TB, msg string, ts int64) *http.Request {
	t.Helper()
	enc := encrypt(t, msg, testCorpID)
	nonce := "n0nce"
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><AgentID><![CDATA[%d]]></AgentID><Encrypt><![CDATA[%s]]></Encrypt></xml>", testCorpID, testAgentID, enc)
	q := url.Values{"msg_signature": {sign(testToken, fmt.Sprint(ts), nonce, enc)}, "timestamp": {fmt.Sprint(ts)}, "nonce": {nonce}}
	return httptest.NewRequest(http.MethodPost, "/wecom/callback?"+q.Encode(), strings.NewReader(body))
}

// textXML is a decrypted text message callback.
func textXML(from, content, msgID string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>1772442000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId><AgentID>%d</AgentID></xml>`,
		testCorpID, from, content, msgID, testAgentID)
}

// clickXML is a decrypted template_card_event callback.
func clickXML(from, key, taskID, responseCode string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>1772442060</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[%s]]></EventKey><TaskId><![CDATA[%s]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[%s]]></ResponseCode><AgentID>%d</AgentID></xml>`,
		testCorpID, from, key, taskID, responseCode, testAgentID)
}

// post serves a callback and waits for its background handling.
func (b *bundle) post(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	b.mux.ServeHTTP(rec, req)
	b.a.Wait()
	return rec
}

// heldCount counts the held rows of the test's schema.
func (b *bundle) heldCount(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM platform_held WHERE platform = 'wecom'`).Scan(&n))
	return n
}
