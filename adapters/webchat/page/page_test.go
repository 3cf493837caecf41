package page

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------- the handler, without a browser ----------

func TestHandlerServesPage(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/webchat/", "/webchat/anything?user=admin"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		res := rec.Result()
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
		assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"), path)
		assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"), path)
		assert.Equal(t, indexHTML, rec.Body.Bytes(), path)
	}
}

func TestHandlerHead(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/webchat/", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	assert.Equal(t, strconv.Itoa(len(indexHTML)), rec.Header().Get("Content-Length"))
	assert.Empty(t, rec.Body.Bytes())
}

func TestHandlerRejectsOtherMethods(t *testing.T) {
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(m, "/", strings.NewReader("{}")))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, m)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), m)
	}
}

func TestHandlerRevalidates(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	tag := rec.Header().Get("ETag")
	require.NotEmpty(t, tag)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("If-None-Match", tag)
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotModified, rec.Code)
	assert.Empty(t, rec.Body.Bytes())
}

func TestContentSecurityPolicy(t *testing.T) {
	// The page must keep exactly one inline <script> and one inline <style>,
	// or the policy is dropped.
	require.NotEmpty(t, contentSecurityPolicy)
	assert.Contains(t, contentSecurityPolicy, "script-src 'sha256-")
	assert.Contains(t, contentSecurityPolicy, "style-src 'sha256-")
	assert.Contains(t, contentSecurityPolicy, "connect-src 'self'")
	assert.NotContains(t, contentSecurityPolicy, "unsafe-inline")

	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, contentSecurityPolicy, rec.Header().Get("Content-Security-Policy"))

	assert.Empty(t, buildCSP([]byte("<html></html>")))
	assert.Empty(t, buildCSP([]byte("<style></style><script>a</script><script>b</script>")))
}

func TestPageHasNoExternalResources(t *testing.T) {
	html := string(indexHTML)
	for _, bad := range []string{"src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import", "url("} {
		assert.NotContains(t, html, bad)
	}
	for _, id := range []string{`id="user"`, `id="channel"`, `id="messages"`, `id="input"`, `id="send"`} {
		assert.Contains(t, html, id)
	}
	assert.Contains(t, html, "opsbot · 运维助手（网页聊天）")
	assert.Contains(t, html, `placeholder="输入命令，如 /help 或 /帮助"`)
}

// ---------- a fake of the webchat JSON API ----------

type fakeUser struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	UnitName string   `json:"unit_name"`
	Roles    []string `json:"roles"`
}

type addr struct {
	User    string `json:"user,omitempty"`
	Channel string `json:"channel,omitempty"`
}

type field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type button struct {
	Action  string `json:"action"`
	Value   string `json:"value"`
	Label   string `json:"label"`
	Style   string `json:"style"`
	Confirm string `json:"confirm,omitempty"`
}

type message struct {
	ID        string   `json:"id"`
	Revision  int      `json:"revision"`
	To        addr     `json:"to"`
	Status    string   `json:"status"`
	Ref       string   `json:"ref,omitempty"`
	Title     string   `json:"title,omitempty"`
	Text      string   `json:"text,omitempty"`
	Fields    []field  `json:"fields,omitempty"`
	Buttons   []button `json:"buttons,omitempty"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

type sendReq struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

type actionReq struct {
	User      string `json:"user"`
	MessageID string `json:"message_id"`
	Action    string `json:"action"`
	Value     string `json:"value"`
}

// apiError makes a handler of the fake answer with an HTTP error.
type apiError struct {
	status int
	reason string
}

// fakeAPI serves the page and a fake of /webchat/api. Replies to messages
// and actions are also put into the inbox, as the real server does.
type fakeAPI struct {
	// The hooks run with mu held, so they may call addLocked.
	onMessage func(f *fakeAPI, req sendReq) ([]message, *apiError)
	onAction  func(f *fakeAPI, req actionReq) ([]message, *apiError)

	mu         sync.Mutex
	users      []fakeUser
	channels   map[string][]string
	log        []message // the inbox; the cursor is the length of the log
	polls      map[string]int
	pageLoads  int
	sent       []sendReq
	actions    []actionReq
	actionGate chan struct{} // when set, /actions waits for it to be closed
}

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	return &fakeAPI{
		users: []fakeUser{
			{ID: "admin", Name: "系统管理员", Unit: "city", UnitName: "示范市", Roles: []string{"sys_admin@city"}},
			{ID: "ops1", Name: "值班员", Unit: "city", UnitName: "示范市", Roles: []string{"ops_oncall@city", "viewer@city"}},
		},
		channels: map[string][]string{
			"admin": {"ops", "incidents"},
			"ops1":  {"ops"},
		},
		polls: map[string]int{},
	}
}

func (f *fakeAPI) server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /webchat/api/users", f.handleUsers)
	mux.HandleFunc("GET /webchat/api/channels", f.handleChannels)
	mux.HandleFunc("GET /webchat/api/inbox", f.handleInbox)
	mux.HandleFunc("POST /webchat/api/messages", f.handleMessages)
	mux.HandleFunc("POST /webchat/api/actions", f.handleActions)
	mux.HandleFunc("/webchat/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
	})
	pageHandler := Handler()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			f.mu.Lock()
			f.pageLoads++
			f.mu.Unlock()
		}
		pageHandler.ServeHTTP(w, r)
	}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) knownLocked(user string) bool {
	for _, u := range f.users {
		if u.ID == user {
			return true
		}
	}
	return false
}

func (f *fakeAPI) handleUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": f.users})
}

func (f *fakeAPI) handleChannels(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	user := r.URL.Query().Get("user")
	if !f.knownLocked(user) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown user " + user})
		return
	}
	chs := []map[string]string{}
	for _, c := range f.channels[user] {
		chs = append(chs, map[string]string{"name": c})
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chs})
}

func (f *fakeAPI) handleInbox(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	user := r.URL.Query().Get("user")
	if !f.knownLocked(user) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown user " + user})
		return
	}
	after, err := strconv.Atoi(r.URL.Query().Get("after"))
	if err != nil || after < 0 || after > len(f.log) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad cursor"})
		return
	}
	f.polls[user]++
	msgs := []message{}
	for _, m := range f.log[after:] {
		if f.forLocked(user, m) {
			msgs = append(msgs, m)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "cursor": len(f.log)})
}

// forLocked reports whether m goes to user, directly or through a channel.
func (f *fakeAPI) forLocked(user string, m message) bool {
	if m.To.User != "" {
		return m.To.User == user
	}
	for _, c := range f.channels[user] {
		if c == m.To.Channel {
			return true
		}
	}
	return false
}

func (f *fakeAPI) handleMessages(w http.ResponseWriter, r *http.Request) {
	var req sendReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, req)
	var replies []message
	var aerr *apiError
	if f.onMessage != nil {
		replies, aerr = f.onMessage(f, req)
	} else {
		replies = []message{f.newMessage(req.User, req.Channel, "ok", "收到", "你说："+req.Text)}
	}
	f.answer(w, replies, aerr)
}

func (f *fakeAPI) handleActions(w http.ResponseWriter, r *http.Request) {
	var req actionReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
		return
	}
	f.mu.Lock()
	f.actions = append(f.actions, req)
	gate := f.actionGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var replies []message
	var aerr *apiError
	if f.onAction != nil {
		replies, aerr = f.onAction(f, req)
	}
	f.answer(w, replies, aerr)
}

func (f *fakeAPI) answer(w http.ResponseWriter, replies []message, aerr *apiError) {
	if aerr != nil {
		writeJSON(w, aerr.status, map[string]string{"error": aerr.reason})
		return
	}
	if replies == nil {
		replies = []message{}
	}
	f.log = append(f.log, replies...)
	writeJSON(w, http.StatusOK, map[string]any{"replies": replies})
}

var msgSeq atomic.Int64

// newMessage makes a message to a user, or to a channel if channel is set.
func (f *fakeAPI) newMessage(user, channel, status, title, text string) message {
	to := addr{User: user}
	if channel != "" {
		to = addr{Channel: channel}
	}
	now := time.Now().Format(time.RFC3339)
	return message{
		ID:        "m" + strconv.FormatInt(msgSeq.Add(1), 10),
		Revision:  1,
		To:        to,
		Status:    status,
		Title:     title,
		Text:      text,
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// add puts messages into the inbox, as if they arrived later.
func (f *fakeAPI) add(msgs ...message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, msgs...)
}

func (f *fakeAPI) pollCount(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls[user]
}

func (f *fakeAPI) sentRequests() []sendReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendReq(nil), f.sent...)
}

func (f *fakeAPI) actionRequests() []actionReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]actionReq(nil), f.actions...)
}

// ---------- browser helpers ----------

// newBrowser starts a headless Chromium for one test and returns a context
// that ends after 30 seconds. It skips the test when no browser is found,
// unless OPSBOT_REQUIRE_BROWSER=1.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		msg := fmt.Sprintf("no browser at %s (set CHROMIUM_PATH): %v", path, err)
		if os.Getenv("OPSBOT_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// Start the browser with a context that has no deadline; the deadline
	// below is for the test's actions only.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}

	ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
	t.Cleanup(cancel)
	watchConsole(t, ctx)
	return ctx
}

// watchConsole fails the test if the page throws an uncaught exception, and
// logs what the page wrote to the console.
func watchConsole(t *testing.T, ctx context.Context) {
	var (
		mu   sync.Mutex
		msgs []chromedp.ConsoleMessage
	)
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		// Give late messages a moment, then stop reading.
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if m.IsException() {
				t.Errorf("page exception: %s", m)
			} else {
				t.Logf("console %s: %s", m.Type, m)
			}
		}
	})
}

func navigate(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
}

// waitJS waits until the JavaScript expression is truthy.
func waitJS(ctx context.Context, t *testing.T, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

func evalJS[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// eventually waits until cond is true.
func eventually(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// choose picks value in a <select> the way a user does: it sets the value
// and fires the change event.
func choose(ctx context.Context, t *testing.T, selector, value string) {
	t.Helper()
	ok := evalJS[bool](ctx, t, fmt.Sprintf(`(() => {
		const s = document.querySelector(%s);
		s.value = %s;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return s.value === %s;
	})()`, jsString(selector), jsString(value), jsString(value)))
	require.True(t, ok, "option %q in %s", value, selector)
}

func msgSel(id string) string { return `.msg[data-id=` + jsString(id) + `]` }

func countJS(ctx context.Context, t *testing.T, selector string) int {
	t.Helper()
	return evalJS[int](ctx, t, `document.querySelectorAll(`+jsString(selector)+`).length`)
}

func textJS(ctx context.Context, t *testing.T, selector string) string {
	t.Helper()
	return evalJS[string](ctx, t, `(document.querySelector(`+jsString(selector)+`) || {}).textContent || ""`)
}

// loadPage opens the page and waits until the user's inbox was read once.
func loadPage(ctx context.Context, t *testing.T, f *fakeAPI, url, user string) {
	t.Helper()
	before := f.pollCount(user)
	navigate(ctx, t, url)
	waitJS(ctx, t, `document.querySelector("#user option")`)
	eventually(ctx, t, "the first inbox poll", func() bool { return f.pollCount(user) > before })
}

// ---------- browser tests ----------

func TestUserPickerAndWhoami(t *testing.T) {
	f := newFake(t)
	f.onMessage = func(f *fakeAPI, req sendReq) ([]message, *apiError) {
		if req.Text != "/whoami" {
			return nil, &apiError{http.StatusBadRequest, "unexpected " + req.Text}
		}
		m := f.newMessage(req.User, "", "ok", "你是 值班员（ops1）", "单位：示范市\n角色：`ops_oncall@city`")
		m.ID = "whoami-1"
		return []message{m}, nil
	}
	ts := f.server(t)
	ctx := newBrowser(t)

	loadPage(ctx, t, f, ts.URL+"/", "admin")
	opts := evalJS[[]string](ctx, t, `[...document.querySelectorAll("#user option")].map(o => o.textContent)`)
	assert.Equal(t, []string{
		"系统管理员 (admin) · sys_admin@city",
		"值班员 (ops1) · ops_oncall@city, viewer@city",
	}, opts)
	assert.Equal(t, "opsbot · 运维助手（网页聊天）", textJS(ctx, t, "header h1"))
	assert.Equal(t, "输入命令，如 /help 或 /帮助", evalJS[string](ctx, t, `document.querySelector("#input").placeholder`))

	choose(ctx, t, "#user", "ops1")
	waitJS(ctx, t, `document.querySelectorAll("#channel option").length === 2`)
	chans := evalJS[[]string](ctx, t, `[...document.querySelectorAll("#channel option")].map(o => o.value + "=" + o.textContent)`)
	assert.Equal(t, []string{"=私聊 opsbot", "ops=# ops"}, chans)
	assert.Contains(t, evalJS[string](ctx, t, `location.search`), "user=ops1")
	assert.Equal(t, "ops1", evalJS[string](ctx, t, `localStorage.getItem("opsbot.webchat.user")`))

	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/whoami\n")))
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("whoami-1"))+`)`)

	assert.Equal(t, "你是 值班员（ops1）", textJS(ctx, t, msgSel("whoami-1")+" .title"))
	assert.Equal(t, "单位：示范市角色：ops_oncall@city", textJS(ctx, t, msgSel("whoami-1")+" .text"))
	assert.Equal(t, 1, countJS(ctx, t, msgSel("whoami-1")+".ok"))
	assert.Equal(t, "1", evalJS[string](ctx, t, `document.querySelector(`+jsString(msgSel("whoami-1"))+`).dataset.revision`))
	assert.Equal(t, "/whoami", textJS(ctx, t, ".msg.mine .body"))
	assert.Equal(t, "", evalJS[string](ctx, t, `document.querySelector("#input").value`), "input is cleared")
	assert.Equal(t, []sendReq{{User: "ops1", Channel: "", Text: "/whoami"}}, f.sentRequests())

	// The reply comes back through the inbox with the same id; it must not
	// show twice.
	polls := f.pollCount("ops1")
	eventually(ctx, t, "two more polls", func() bool { return f.pollCount("ops1") >= polls+2 })
	assert.Equal(t, 1, countJS(ctx, t, msgSel("whoami-1")))

	// Up-arrow recalls the last command.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), kb.ArrowUp)))
	assert.Equal(t, "/whoami", evalJS[string](ctx, t, `document.querySelector("#input").value`))

	// Shift+Enter makes a new line and does not send.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#input").value = ""`),
		chromedp.SendKeys(chromedp.ID("input"), "a"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(chromedp.ID("input"), "b"),
	))
	assert.Equal(t, "a\nb", evalJS[string](ctx, t, `document.querySelector("#input").value`))
	assert.Len(t, f.sentRequests(), 1)

	// The choice survives a reload without the query, and the history comes
	// back from the inbox.
	loadPage(ctx, t, f, ts.URL+"/webchat/", "ops1")
	assert.Equal(t, "ops1", evalJS[string](ctx, t, `document.querySelector("#user").value`))
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("whoami-1"))+`)`)
	assert.Equal(t, 1, countJS(ctx, t, msgSel("whoami-1")))
}

func TestErrorReplies(t *testing.T) {
	f := newFake(t)
	f.onMessage = func(f *fakeAPI, req sendReq) ([]message, *apiError) {
		switch req.Text {
		case "/boom":
			m := f.newMessage(req.User, "", "error", "命令执行失败", "未知命令 `/boom`，输入 /help 查看帮助")
			m.ID = "err-1"
			return []message{m}, nil
		case "/down":
			return nil, &apiError{http.StatusServiceUnavailable, "后端服务暂时不可用"}
		}
		return nil, nil
	}
	ts := f.server(t)
	ctx := newBrowser(t)
	loadPage(ctx, t, f, ts.URL+"/?user=admin", "admin")

	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/boom\n")))
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("err-1"))+`)`)
	assert.Equal(t, 1, countJS(ctx, t, msgSel("err-1")+".error"))
	assert.Equal(t, "命令执行失败", textJS(ctx, t, msgSel("err-1")+" .title"))
	color := evalJS[string](ctx, t, `getComputedStyle(document.querySelector(`+jsString(msgSel("err-1")+" .body")+`)).color`)
	assert.Equal(t, "rgb(198, 40, 40)", color, "error text is red")

	// An HTTP error shows its reason as an error line.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/down\n")))
	waitJS(ctx, t, `[...document.querySelectorAll(".msg.error")].some(e => e.textContent.includes("后端服务暂时不可用"))`)
	last := evalJS[string](ctx, t, `[...document.querySelectorAll("#messages .msg")].pop().className`)
	assert.Contains(t, last, "error")
	assert.Equal(t, 2, countJS(ctx, t, ".msg.mine"))
}

func approvalCard(user string) message {
	now := time.Now().Add(-3 * time.Minute).Format(time.RFC3339)
	return message{
		ID:       "card-42",
		Revision: 1,
		To:       addr{User: user},
		Status:   "ok",
		Ref:      "request:42",
		Title:    "权限申请 #42 待审批",
		Text:     "**张三** 申请 `生产库只读` 权限",
		Fields: []field{
			{Name: "申请人", Value: "张三（信息中心）"},
			{Name: "资源", Value: "政务云 / 生产库 / 只读"},
			{Name: "理由", Value: "排查社保系统查询缓慢"},
		},
		Buttons: []button{
			{Action: "approval.approve", Value: "request:42", Label: "批准", Style: "primary"},
			{Action: "approval.reject", Value: "request:42", Label: "驳回", Style: "danger", Confirm: "确定驳回申请 #42 吗？"},
			{Action: "approval.details", Value: "request:42", Label: "详情", Style: ""},
		},
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func TestCardButtons(t *testing.T) {
	f := newFake(t)
	f.add(approvalCard("admin"))
	f.onAction = func(f *fakeAPI, req actionReq) ([]message, *apiError) {
		m := f.newMessage(req.User, "", "ok", "已处理", "操作 `"+req.Action+"` 已提交")
		m.ID = "reply-" + req.Action
		return []message{m}, nil
	}
	gate := make(chan struct{})
	f.actionGate = gate
	ts := f.server(t)
	ctx := newBrowser(t)

	// Answer confirm dialogs from another goroutine: the click that opens
	// one blocks until it is closed.
	var accept atomic.Bool
	dialogs := make(chan string, 4)
	dialogEvents := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogEvents {
			if err != nil {
				return
			}
			dialogs <- string(ev.Type) + ":" + ev.Message
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept.Load()})
		}
	}()

	loadPage(ctx, t, f, ts.URL+"/", "admin")
	card := msgSel("card-42")
	waitJS(ctx, t, `document.querySelector(`+jsString(card)+`)`)

	assert.Equal(t, 1, countJS(ctx, t, card+".card.ok"))
	assert.Equal(t, "权限申请 #42 待审批", textJS(ctx, t, card+" .title"))
	rows := evalJS[[][]string](ctx, t, `[...document.querySelectorAll(`+jsString(card+" table.fields tr")+`)].map(r => [...r.children].map(c => c.textContent))`)
	assert.Equal(t, [][]string{
		{"申请人", "张三（信息中心）"},
		{"资源", "政务云 / 生产库 / 只读"},
		{"理由", "排查社保系统查询缓慢"},
	}, rows)
	btns := evalJS[[]map[string]string](ctx, t, `[...document.querySelectorAll(`+jsString(card+" button")+`)].map(b => ({cls: b.className, action: b.dataset.action, value: b.dataset.value, label: b.textContent}))`)
	assert.Equal(t, []map[string]string{
		{"cls": "btn btn-primary", "action": "approval.approve", "value": "request:42", "label": "批准"},
		{"cls": "btn btn-danger", "action": "approval.reject", "value": "request:42", "label": "驳回"},
		{"cls": "btn btn-default", "action": "approval.details", "value": "request:42", "label": "详情"},
	}, btns)

	// Click "批准": the buttons are disabled while the request is in flight.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(card+` button[data-action="approval.approve"]`))))
	eventually(ctx, t, "the approve request", func() bool { return len(f.actionRequests()) == 1 })
	waitJS(ctx, t, `document.querySelectorAll(`+jsString(card+" button:disabled")+`).length === 3`)
	close(gate)
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("reply-approval.approve"))+`)`)
	assert.Equal(t, "已处理", textJS(ctx, t, msgSel("reply-approval.approve")+" .title"))
	waitJS(ctx, t, `document.querySelectorAll(`+jsString(card+" button:disabled")+`).length === 0`)
	assert.Equal(t, actionReq{User: "admin", MessageID: "card-42", Action: "approval.approve", Value: "request:42"}, f.actionRequests()[0])

	// "驳回" asks first. Dismissing the dialog sends nothing.
	accept.Store(false)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(card+` button[data-action="approval.reject"]`))))
	select {
	case d := <-dialogs:
		assert.Equal(t, "confirm:确定驳回申请 #42 吗？", d)
	case <-ctx.Done():
		t.Fatal("no confirm dialog")
	}
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, f.actionRequests(), 1, "a dismissed confirm sends nothing")
	assert.Equal(t, 0, countJS(ctx, t, card+" button:disabled"))

	// Accepting it sends the action.
	accept.Store(true)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(card+` button[data-action="approval.reject"]`))))
	select {
	case d := <-dialogs:
		assert.Equal(t, "confirm:确定驳回申请 #42 吗？", d)
	case <-ctx.Done():
		t.Fatal("no confirm dialog")
	}
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("reply-approval.reject"))+`)`)
	reqs := f.actionRequests()
	require.Len(t, reqs, 2)
	assert.Equal(t, actionReq{User: "admin", MessageID: "card-42", Action: "approval.reject", Value: "request:42"}, reqs[1])

	// An action that fails shows the reason.
	f.mu.Lock()
	f.onAction = func(f *fakeAPI, req actionReq) ([]message, *apiError) {
		return nil, &apiError{http.StatusForbidden, "无权审批该申请"}
	}
	f.mu.Unlock()
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(card+` button[data-action="approval.details"]`))))
	waitJS(ctx, t, `[...document.querySelectorAll(".msg.error")].some(e => e.textContent.includes("无权审批该申请"))`)
	waitJS(ctx, t, `document.querySelectorAll(`+jsString(card+" button:disabled")+`).length === 0`)
}

func TestLaterMessagesAndChannels(t *testing.T) {
	f := newFake(t)
	ts := f.server(t)
	ctx := newBrowser(t)

	loadPage(ctx, t, f, ts.URL+"/?user=admin", "admin")
	waitJS(ctx, t, `document.querySelectorAll("#channel option").length === 3`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__samePage = "yes"`)))
	loads := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.pageLoads }()

	later := f.newMessage("admin", "", "notice", "告警", "**磁盘使用率 92%**：db-01")
	later.ID = "later-direct"
	inOps := f.newMessage("", "ops", "ok", "值班交接", "今日值班：李四")
	inOps.ID = "later-ops"
	elsewhere := f.newMessage("", "secret", "ok", "不该看到", "")
	elsewhere.ID = "later-secret"
	f.add(later, inOps, elsewhere)

	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("later-direct"))+`)`)
	assert.Equal(t, 1, countJS(ctx, t, msgSel("later-direct")+".notice"))
	assert.Equal(t, "yes", evalJS[string](ctx, t, `window.__samePage`), "no reload")
	assert.Equal(t, loads, func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.pageLoads }())
	// The channel message is not in the direct view, but counted as unread.
	assert.Equal(t, 0, countJS(ctx, t, msgSel("later-ops")))
	assert.Equal(t, 0, countJS(ctx, t, msgSel("later-secret")))
	assert.Contains(t, textJS(ctx, t, `#channel option[value="ops"]`), "1")

	// The list scrolled to the newest message.
	assert.True(t, evalJS[bool](ctx, t, `(() => { const l = document.querySelector("#messages"); return l.scrollHeight - l.scrollTop - l.clientHeight < 2; })()`))

	// In #ops: channel messages and direct messages are shown.
	choose(ctx, t, "#channel", "ops")
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("later-ops"))+`)`)
	assert.Equal(t, 1, countJS(ctx, t, msgSel("later-direct")))
	assert.Equal(t, "# ops", textJS(ctx, t, `#channel option[value="ops"]`))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/status\n")))
	eventually(ctx, t, "the /status request", func() bool { return len(f.sentRequests()) == 1 })
	assert.Equal(t, sendReq{User: "admin", Channel: "ops", Text: "/status"}, f.sentRequests()[0])

	// Back to the direct conversation: the #ops messages are hidden again.
	choose(ctx, t, "#channel", "")
	waitJS(ctx, t, `!document.querySelector(`+jsString(msgSel("later-ops"))+`)`)
	assert.Equal(t, 1, countJS(ctx, t, msgSel("later-direct")))
	assert.Equal(t, 0, countJS(ctx, t, ".msg.mine"), "the command typed in #ops stays in #ops")

	// Switching the user starts over from after=0 with the new user's inbox.
	choose(ctx, t, "#user", "ops1")
	waitJS(ctx, t, `document.querySelectorAll("#channel option").length === 2`)
	eventually(ctx, t, "a poll for ops1", func() bool { return f.pollCount("ops1") > 0 })
	waitJS(ctx, t, `!document.querySelector(`+jsString(msgSel("later-direct"))+`)`)
	choose(ctx, t, "#channel", "ops")
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("later-ops"))+`)`)
}

func TestUpdatedCardReplacedInPlace(t *testing.T) {
	f := newFake(t)
	first := f.newMessage("admin", "", "notice", "", "欢迎使用 opsbot")
	first.ID = "welcome"
	after := f.newMessage("admin", "", "ok", "", "其他消息")
	after.ID = "after"
	f.add(first, approvalCard("admin"), after)
	ts := f.server(t)
	ctx := newBrowser(t)

	loadPage(ctx, t, f, ts.URL+"/", "admin")
	card := msgSel("card-42")
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("after"))+`)`)
	order := `[...document.querySelectorAll("#messages .msg")].map(e => e.dataset.id)`
	assert.Equal(t, []string{"welcome", "card-42", "after"}, evalJS[[]string](ctx, t, order))
	assert.Equal(t, 3, countJS(ctx, t, card+" button"))

	updated := approvalCard("admin")
	updated.Revision = 2
	updated.Title = "权限申请 #42 已批准"
	updated.Buttons = nil
	updated.Fields = append(updated.Fields, field{Name: "结果", Value: "已批准（系统管理员）"})
	updated.UpdatedAt = time.Now().Format(time.RFC3339)
	f.add(updated)

	waitJS(ctx, t, `document.querySelector(`+jsString(card)+`).dataset.revision === "2"`)
	assert.Equal(t, []string{"welcome", "card-42", "after"}, evalJS[[]string](ctx, t, order))
	assert.Equal(t, 1, countJS(ctx, t, card))
	assert.Equal(t, 0, countJS(ctx, t, card+" button"))
	assert.Equal(t, "权限申请 #42 已批准", textJS(ctx, t, card+" .title"))
	assert.Equal(t, "已批准（系统管理员）", textJS(ctx, t, card+" table.fields tr:last-child td"))

	// An older revision that comes late is ignored.
	marker := f.newMessage("admin", "", "ok", "", "标记")
	marker.ID = "marker"
	f.add(approvalCard("admin"), marker)
	waitJS(ctx, t, `document.querySelector(`+jsString(msgSel("marker"))+`)`)
	assert.Equal(t, "2", evalJS[string](ctx, t, `document.querySelector(`+jsString(card)+`).dataset.revision`))
	assert.Equal(t, 0, countJS(ctx, t, card+" button"))
	assert.Equal(t, []string{"welcome", "card-42", "after", "marker"}, evalJS[[]string](ctx, t, order))
}

func TestMarkdownIsSafe(t *testing.T) {
	f := newFake(t)
	m := f.newMessage("admin", "", "ok", "<b>不是粗体</b>", strings.Join([]string{
		"**加粗** 普通 `kubectl get pods` <script>window.__xss = 1</script>",
		`<img src=x onerror="window.__xss = 2"> & 完`,
		"- 第一项",
		"- 第二项 **重点**",
		"详情见 https://example.gov.cn/a?b=1&c=2。",
		"javascript:alert(1) **未闭合",
	}, "\n"))
	m.ID = "md"
	m.Fields = []field{{Name: "<i>名</i>", Value: "`值`"}}
	f.add(m)
	ts := f.server(t)
	ctx := newBrowser(t)

	loadPage(ctx, t, f, ts.URL+"/", "admin")
	sel := msgSel("md")
	waitJS(ctx, t, `document.querySelector(`+jsString(sel)+`)`)
	time.Sleep(200 * time.Millisecond)

	assert.Equal(t, "加粗", textJS(ctx, t, sel+" .text strong"))
	assert.Equal(t, "kubectl get pods", textJS(ctx, t, sel+" .text code"))
	assert.Equal(t, []string{"第一项", "第二项 重点"}, evalJS[[]string](ctx, t, `[...document.querySelectorAll(`+jsString(sel+" .text li")+`)].map(e => e.textContent)`))
	assert.Equal(t, "重点", textJS(ctx, t, sel+" .text li strong"))
	link := evalJS[map[string]string](ctx, t, `(() => { const a = document.querySelector(`+jsString(sel+" .text a")+`); return {href: a.getAttribute("href"), text: a.textContent, target: a.target, rel: a.rel}; })()`)
	assert.Equal(t, "https://example.gov.cn/a?b=1&c=2", link["href"])
	assert.Equal(t, "https://example.gov.cn/a?b=1&c=2", link["text"])
	assert.Equal(t, "_blank", link["target"])
	assert.Contains(t, strings.Fields(link["rel"]), "noopener")
	assert.Equal(t, 1, countJS(ctx, t, sel+" .text a"), "javascript: is not a link")
	assert.GreaterOrEqual(t, countJS(ctx, t, sel+" .text br"), 1)

	// The markup in the message is text, not elements, and it never ran.
	text := textJS(ctx, t, sel+" .text")
	assert.Contains(t, text, "<script>window.__xss = 1</script>")
	assert.Contains(t, text, `<img src=x onerror="window.__xss = 2"> & 完`)
	assert.Contains(t, text, "**未闭合")
	assert.Equal(t, 0, countJS(ctx, t, sel+" script, "+sel+" img, "+sel+" b, "+sel+" i"))
	assert.Equal(t, "undefined", evalJS[string](ctx, t, `typeof window.__xss`))
	assert.Equal(t, "<b>不是粗体</b>", textJS(ctx, t, sel+" .title"))
	assert.Equal(t, "<i>名</i>", textJS(ctx, t, sel+" .fields th"))
	assert.Equal(t, "值", textJS(ctx, t, sel+" .fields td code"))
}

// TestScreenshot renders a sample conversation and takes full screenshots at
// desktop and phone widths. Set OPSBOT_WEBCHAT_SCREENSHOT_DIR to keep them.
func TestScreenshot(t *testing.T) {
	f := newFake(t)
	welcome := f.newMessage("admin", "", "notice", "", "欢迎使用 opsbot 运维助手。输入 `/help` 或 `/帮助` 查看命令。")
	card := approvalCard("admin")
	done := approvalCard("admin")
	done.ID = "card-41"
	done.Ref = "request:41"
	done.Title = "权限申请 #41 已批准"
	done.Text = "**王五** 申请 `堡垒机运维` 权限"
	done.Buttons = nil
	done.Revision = 2
	done.Fields = []field{{Name: "申请人", Value: "王五（网络科）"}, {Name: "结果", Value: "已批准（系统管理员，10:02）"}}
	f.add(welcome, done, card)
	f.onMessage = func(f *fakeAPI, req sendReq) ([]message, *apiError) {
		switch req.Text {
		case "/help":
			return []message{f.newMessage(req.User, req.Channel, "ok", "可用命令",
				"- `/whoami` 查看我的身份\n- `/审批` 查看待审批申请\n- `/值班` 查看值班表\n文档：https://ops.example.gov.cn/docs")}, nil
		case "/重启 db-01":
			return []message{f.newMessage(req.User, req.Channel, "error", "权限不足", "你没有 **生产环境重启** 权限，请联系系统管理员。")}, nil
		}
		return nil, &apiError{http.StatusBadRequest, "未知命令"}
	}
	ts := f.server(t)
	ctx := newBrowser(t)

	loadPage(ctx, t, f, ts.URL+"/", "admin")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/help\n")))
	waitJS(ctx, t, `document.querySelectorAll(".msg.mine").length === 1 && document.querySelectorAll(".msg[data-id]").length === 4`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("input"), "/重启 db-01\n")))
	waitJS(ctx, t, `document.querySelectorAll(".msg.error").length === 1`)

	dir := os.Getenv("OPSBOT_WEBCHAT_SCREENSHOT_DIR")
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1100, 1250}, {"mobile", 390, 1400}} {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height)))
		require.NoError(t, chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond)))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.True(t, len(png) > 1000 && string(png[1:4]) == "PNG", "a PNG image")
		// Nothing sticks out sideways at this width.
		assert.True(t, evalJS[bool](ctx, t, `document.documentElement.scrollWidth <= window.innerWidth`), size.name)
		if dir != "" {
			name := filepath.Join(dir, "webchat-"+size.name+".png")
			require.NoError(t, os.WriteFile(name, png, 0o644))
			t.Logf("screenshot: %s", name)
		}
	}
}
