// Package webchat is the embedded web chat platform: the JSON API of
// DESIGN §5 and one page served from embed.FS. It is the default platform
// for local runs and the driver of end-to-end tests.
//
// Messages live in the adapter's Store (Postgres in production). An
// updated card keeps its id and bumps its revision; ids and inbox cursors
// come from one sequence, so "after=<cursor>" also returns updated cards.
package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/adapters/webchat/page"
	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/chat"
)

// Target is whom a stored message is for.
type Target struct {
	User    string `json:"user,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// record is a stored webchat message, decoded.
type record struct {
	ID        int64
	Seq       int64
	Revision  int
	To        Target
	Message   bot.Message
	CreatedAt time.Time
	UpdatedAt time.Time
}

// content encodes what m shows for the Store; fields and buttons are
// JSON arrays ("[]" when none), as the wire shows them.
func content(m bot.Message) (chat.WebchatContent, error) {
	c := chat.WebchatContent{Status: m.Status, Ref: m.Ref, Title: m.Title, Text: m.Text, Image: m.Image}
	var err error
	if c.Fields, err = jsonArray(m.Fields); err != nil {
		return c, fmt.Errorf("webchat: fields: %w", err)
	}
	if c.Buttons, err = jsonArray(m.Buttons); err != nil {
		return c, fmt.Errorf("webchat: buttons: %w", err)
	}
	return c, nil
}

func jsonArray[T any](v []T) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("[]"), nil
	}
	return json.Marshal(v)
}

// decodeRecord turns a stored message back into a record.
func decodeRecord(s chat.WebchatMessage) (record, error) {
	c := s.Content
	r := record{ID: s.ID, Seq: s.Seq, Revision: s.Revision, To: Target{User: s.ToUser, Channel: s.ToChannel},
		Message:   bot.Message{Status: c.Status, Ref: c.Ref, Title: c.Title, Text: c.Text, Image: c.Image, Level: bot.LevelOfTitle(c.Title)},
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if len(c.Fields) > 0 {
		if err := json.Unmarshal(c.Fields, &r.Message.Fields); err != nil {
			return r, fmt.Errorf("webchat: message %d fields: %w", s.ID, err)
		}
	}
	if len(c.Buttons) > 0 {
		if err := json.Unmarshal(c.Buttons, &r.Message.Buttons); err != nil {
			return r, fmt.Errorf("webchat: message %d buttons: %w", s.ID, err)
		}
	}
	return r, nil
}

// decodeAll decodes stored messages, or passes on the error reading them.
func decodeAll(stored []chat.WebchatMessage, err error) ([]record, error) {
	if err != nil {
		return nil, err
	}
	out := make([]record, len(stored))
	for i, s := range stored {
		if out[i], err = decodeRecord(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insert stores messages to their targets, in order.
func (a *Adapter) insert(ctx context.Context, to Target, msgs []bot.Message) ([]record, error) {
	in := make([]chat.WebchatMessage, len(msgs))
	for i, m := range msgs {
		c, err := content(m)
		if err != nil {
			return nil, err
		}
		in[i] = chat.WebchatMessage{ToUser: to.User, ToChannel: to.Channel, Content: c}
	}
	return decodeAll(a.store.Insert(ctx, in))
}

// wireMessage is a record on the wire (DESIGN §5).
type wireMessage struct {
	ID       string       `json:"id"`
	Revision int          `json:"revision"`
	To       Target       `json:"to"`
	Status   string       `json:"status"`
	Ref      string       `json:"ref"`
	Title    string       `json:"title"`
	Text     string       `json:"text"`
	Fields   []bot.Field  `json:"fields"`
	Buttons  []bot.Button `json:"buttons"`
	Image    []byte       `json:"image,omitempty"` // a PNG, base64 on the wire
	// Severity is set on a card about an incident level; the page colours
	// the card's edge with it. A stored card keeps no level: it comes back
	// from the level's emoji leading the title (bot.LevelOfTitle).
	Severity  *bot.Severity `json:"severity,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

func wire(r record) wireMessage {
	w := wireMessage{
		ID: strconv.FormatInt(r.ID, 10), Revision: r.Revision, To: r.To, Status: r.Message.Status,
		Ref: r.Message.Ref, Title: r.Message.Title, Text: r.Message.Text,
		Fields: r.Message.Fields, Buttons: r.Message.Buttons, Image: r.Message.Image, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if s, ok := bot.SeverityOf(r.Message.Level); ok {
		w.Severity = &s
	}
	if w.Fields == nil {
		w.Fields = []bot.Field{}
	}
	if w.Buttons == nil {
		w.Buttons = []bot.Button{}
	}
	return w
}

// Store keeps webchat messages (core/chat records whose content the
// adapter encodes); *postgres.Webchat implements it.
type Store interface {
	// Insert stores messages and returns them with ids, seqs and times.
	Insert(ctx context.Context, recs []chat.WebchatMessage) ([]chat.WebchatMessage, error)
	// InsertOnce stores the message of outbox notice outboxID to one
	// recipient unless it is stored already (then inserted is false).
	InsertOnce(ctx context.Context, outboxID int64, rec chat.WebchatMessage) (inserted bool, err error)
	// UpdateByRef replaces the title, text, fields and buttons of every
	// message with ref, bumping revision and seq, and returns how many
	// changed. With before > 0 (the updating outbox notice) it leaves the
	// messages later notices stored alone: an update delivered after a
	// newer card about the same ref (a step entered again) must not strip it.
	UpdateByRef(ctx context.Context, ref string, before int64, c chat.WebchatContent) (int, error)
	// Get returns one message (core.ErrNotFound when missing).
	Get(ctx context.Context, id int64) (chat.WebchatMessage, error)
	// Inbox returns messages to user or to any of channels with seq > after.
	Inbox(ctx context.Context, user string, channels []string, after int64, limit int) ([]chat.WebchatMessage, error)
	// Channel returns messages posted to a channel with seq > after.
	Channel(ctx context.Context, name string, after int64, limit int) ([]chat.WebchatMessage, error)
}

// Handler answers events (the bot).
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) []bot.Message
}

// DirectoryUser is a user as the page's picker shows them.
type DirectoryUser struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	UnitName string   `json:"unit_name"`
	Roles    []string `json:"roles"`
}

// Directory lists the users the page offers to act as.
type Directory func(ctx context.Context) ([]DirectoryUser, error)

// Authenticator resolves who a request acts as (adapters/auth.Guard): a
// bearer API token, or a session cookie whose state-changing requests
// carry its CSRF token. Errors: access.ErrUnauthenticated,
// *access.RateLimited, core.ErrForbidden.
type Authenticator interface {
	Authenticate(r *http.Request) (access.Principal, error)
}

// Config configures the adapter.
type Config struct {
	DevMode bool // any org user may act, no sign-in (loopback only)
	// Auth resolves every API call outside dev mode to its principal,
	// who is the only user it acts as. Nil: every call is refused.
	Auth Authenticator
	// Channels lists the channels a user is in (core/org channel
	// membership: config, roles, sys admins' /channel add). Channels are
	// closed: posting into one joins nothing. Nil: nobody is in any.
	Channels     func(ctx context.Context, user string) ([]string, error)
	MaxBodyBytes int64
}

// principalKey holds the signed-in user of a request ("" in dev mode,
// which may act as anyone).
type principalKey struct{}

func principal(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(string)
	return p
}

// as is the user a request acts as: the given one, which must be the
// signed-in user when there is one. A user id Postgres could not store
// (a NUL character, invalid UTF-8) is refused.
func as(r *http.Request, user string) (string, error) {
	if why := core.TextProblem(user); why != "" {
		return "", badRequest("webchat: user cannot be stored: %s", unstorable(why))
	}
	p := principal(r)
	switch {
	case p == "":
		return user, nil
	case user == "" || user == p:
		return p, nil
	}
	return "", &apiError{status: http.StatusForbidden, msg: "webchat: signed in as " + p + ", not " + user}
}

// Adapter is the webchat platform.
type Adapter struct {
	cfg   Config
	store Store
	bot   Handler
	dir   Directory
	log   *slog.Logger
}

// New returns the webchat adapter.
func New(cfg Config, store Store, h Handler, dir Directory, logger *slog.Logger) *Adapter {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	return &Adapter{cfg: cfg, store: store, bot: h, dir: dir, log: logger.With("component", "webchat")}
}

// Platform names the platform.
func (a *Adapter) Platform() string { return core.PlatformWebchat }

// Routes registers the API and the page on mux.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.Handle("POST /webchat/api/messages", a.auth(a.postMessage))
	mux.Handle("POST /webchat/api/actions", a.auth(a.postAction))
	mux.Handle("GET /webchat/api/inbox", a.auth(a.getInbox))
	mux.Handle("GET /webchat/api/channel", a.auth(a.getChannel))
	mux.Handle("GET /webchat/api/channels", a.auth(a.getChannels))
	mux.Handle("GET /webchat/api/users", a.auth(a.getUsers))
	mux.Handle("GET /webchat/api/me", a.auth(a.getMe))
	mux.Handle("/webchat/", page.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler("/webchat/", http.StatusFound))
}

// Send stores a notice for a user or a channel; the page picks it up from the inbox.
func (a *Adapter) Send(ctx context.Context, to core.Recipient, m bot.Message) error {
	if m.Status == "" {
		m.Status = bot.StatusNotice
	}
	if id := bot.OutboxOf(ctx); id > 0 {
		// An outbox notice is stored once per recipient, however often a
		// killed or failed attempt is retried.
		c, err := content(m)
		if err != nil {
			return err
		}
		_, err = a.store.InsertOnce(ctx, id, chat.WebchatMessage{ToUser: to.User, ToChannel: to.Channel, Content: c})
		return err
	}
	_, err := a.insert(ctx, Target{User: to.User, Channel: to.Channel}, []bot.Message{m})
	return err
}

// Update replaces every card about ref (buttons gone, outcome shown).
func (a *Adapter) Update(ctx context.Context, ref string, m bot.Message) error {
	c, err := content(m)
	if err != nil {
		return err
	}
	_, err = a.store.UpdateByRef(ctx, ref, bot.OutboxOf(ctx), c)
	return err
}

// channelsOf lists the channels user is in.
func (a *Adapter) channelsOf(ctx context.Context, user string) ([]string, error) {
	if a.cfg.Channels == nil || user == "" {
		return nil, nil
	}
	return a.cfg.Channels(ctx, user)
}

// member refuses a user who is not in channel (403).
func (a *Adapter) member(ctx context.Context, channel, user string) error {
	chans, err := a.channelsOf(ctx, user)
	if err != nil {
		return err
	}
	if !slices.Contains(chans, channel) {
		return &apiError{status: http.StatusForbidden, msg: fmt.Sprintf(
			"webchat: %s is not a member of channel %s; channels are closed: a sys admin adds members with /channel add", user, channel)}
	}
	return nil
}

type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// unstorable explains a reason core.TextProblem gives.
func unstorable(why string) string {
	if why == core.TextNUL {
		return "it contains a NUL character (U+0000)"
	}
	return "it is not valid UTF-8"
}

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// auth resolves the principal outside dev mode and turns results into JSON.
func (a *Adapter) auth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.cfg.DevMode {
			p, err := access.Principal{}, access.ErrUnauthenticated
			if a.cfg.Auth != nil {
				p, err = a.cfg.Auth.Authenticate(r)
			}
			if err == nil && r.Method != http.MethodGet && !p.CanWrite() {
				err = core.Forbidden("read_only")
			}
			if err != nil {
				a.refuse(w, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p.Actor.UserID))
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		out, err := h(w, r)
		if err != nil {
			var ae *apiError
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &ae):
				writeJSON(w, ae.status, map[string]string{"error": ae.msg})
			case errors.As(err, &mbe):
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "webchat: body too large"})
			default:
				a.log.Error("request failed", "path", r.URL.Path, "err", err)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "webchat: internal error"})
			}
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// refuse answers a request the Authenticator refused: 401 (sign in at
// /auth/login), 429 with Retry-After, 403 (a cross-site or token-less
// state change, a read-only token), else 500.
func (a *Adapter) refuse(w http.ResponseWriter, err error) {
	var rl *access.RateLimited
	var ce *core.Error
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "webchat: not signed in or the session has ended; sign in at /auth/login", "login": "/auth/login"})
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(rl.RetryAfter.Round(time.Second)/time.Second))))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "webchat: too many requests; " + rl.Error()})
	case errors.As(err, &ce) && errors.Is(err, core.ErrForbidden):
		msg := "webchat: refused (" + ce.Code + ")"
		switch ce.Code {
		case "csrf":
			msg = "webchat: refused: a state change needs the session's X-CSRF-Token (from /auth/session) and this site's origin"
		case "read_only":
			msg = "webchat: refused: a read-only token cannot send commands"
		}
		writeJSON(w, http.StatusForbidden, map[string]string{"error": msg})
	default:
		a.log.Error("sign-in check failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "webchat: internal error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("webchat: malformed JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("webchat: trailing data after the JSON body")
	}
	return nil
}

var channelName = func(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// replies stores the bot's direct replies to user and returns them on the
// wire. A reply carrying a secret is stored redacted and answered whole,
// this once.
func (a *Adapter) replies(ctx context.Context, user string, msgs []bot.Message) (any, error) {
	kept := make([]bot.Message, len(msgs))
	for i, m := range msgs {
		kept[i] = m.Redacted()
	}
	stored, err := a.insert(ctx, Target{User: user}, kept)
	if err != nil {
		return nil, err
	}
	out := make([]wireMessage, len(stored))
	for i, r := range stored {
		if i < len(msgs) && msgs[i].Secret != "" {
			m := msgs[i]
			r.Message.Title, r.Message.Text, r.Message.Fields, r.Message.Buttons = m.Title, m.Text, m.Fields, m.Buttons
		}
		out[i] = wire(r)
	}
	return map[string]any{"replies": out}, nil
}

func (a *Adapter) postMessage(_ http.ResponseWriter, r *http.Request) (any, error) {
	var in struct {
		User    string `json:"user"`
		Channel string `json:"channel"`
		Text    string `json:"text"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var err error
	if in.User, err = as(r, in.User); err != nil {
		return nil, err
	}
	if in.User == "" {
		return nil, badRequest("webchat: user is required")
	}
	if in.Channel != "" && !channelName(in.Channel) {
		return nil, badRequest("webchat: channel %q is not a valid channel name", in.Channel)
	}
	if strings.TrimSpace(in.Text) == "" {
		return nil, badRequest("webchat: text is required")
	}
	ctx := r.Context()
	if in.Channel != "" {
		if err := a.member(ctx, in.Channel, in.User); err != nil {
			return nil, err
		}
	}
	msgs := a.bot.Handle(ctx, bot.Event{Platform: core.PlatformWebchat, UserRef: in.User, Channel: in.Channel, Text: in.Text})
	return a.replies(ctx, in.User, msgs)
}

func (a *Adapter) postAction(_ http.ResponseWriter, r *http.Request) (any, error) {
	var in struct {
		User      string `json:"user"`
		MessageID string `json:"message_id"`
		Action    string `json:"action"`
		Value     string `json:"value"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var err error
	if in.User, err = as(r, in.User); err != nil {
		return nil, err
	}
	if in.User == "" || in.Action == "" {
		return nil, badRequest("webchat: user and action are required")
	}
	ctx := r.Context()
	channel := ""
	if in.MessageID != "" {
		id, err := strconv.ParseInt(in.MessageID, 10, 64)
		if err != nil {
			return nil, badRequest("webchat: message_id %q is not a message id", in.MessageID)
		}
		stored, err := a.store.Get(ctx, id)
		if errors.Is(err, core.ErrNotFound) {
			return nil, badRequest("webchat: message %s does not exist", in.MessageID)
		}
		if err != nil {
			return nil, err
		}
		rec, err := decodeRecord(stored)
		if err != nil {
			return nil, err
		}
		if ok, err := a.visible(ctx, rec, in.User); err != nil {
			return nil, err
		} else if !ok {
			return nil, &apiError{status: http.StatusForbidden, msg: "webchat: message " + in.MessageID + " was not sent to " + in.User}
		}
		channel = rec.To.Channel
	}
	msgs := a.bot.Handle(ctx, bot.Event{Platform: core.PlatformWebchat, UserRef: in.User, Channel: channel,
		Action: in.Action, Value: in.Value, MessageID: in.MessageID})
	return a.replies(ctx, in.User, msgs)
}

// visible reports whether user could see rec: sent to them or to a channel they are in.
func (a *Adapter) visible(ctx context.Context, rec record, user string) (bool, error) {
	if rec.To.User != "" {
		return rec.To.User == user, nil
	}
	chans, err := a.channelsOf(ctx, user)
	if err != nil {
		return false, err
	}
	return slices.Contains(chans, rec.To.Channel), nil
}

const pageLimit = 200

func afterParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("webchat: after=%q is not a cursor", s)
	}
	return n, nil
}

func inboxPage(recs []record, after int64) map[string]any {
	out := make([]wireMessage, len(recs))
	cursor := after
	for i, r := range recs {
		out[i] = wire(r)
		if r.Seq > cursor {
			cursor = r.Seq
		}
	}
	return map[string]any{"messages": out, "cursor": cursor}
}

func (a *Adapter) getInbox(_ http.ResponseWriter, r *http.Request) (any, error) {
	user, err := as(r, r.URL.Query().Get("user"))
	if err != nil {
		return nil, err
	}
	if user == "" {
		return nil, badRequest("webchat: user is required")
	}
	after, err := afterParam(r)
	if err != nil {
		return nil, err
	}
	chans, err := a.channelsOf(r.Context(), user)
	if err != nil {
		return nil, err
	}
	recs, err := decodeAll(a.store.Inbox(r.Context(), user, chans, after, pageLimit))
	if err != nil {
		return nil, err
	}
	return inboxPage(recs, after), nil
}

func (a *Adapter) getChannel(_ http.ResponseWriter, r *http.Request) (any, error) {
	name := r.URL.Query().Get("name")
	if !channelName(name) {
		return nil, badRequest("webchat: name=%q is not a channel name", name)
	}
	after, err := afterParam(r)
	if err != nil {
		return nil, err
	}
	// A reader who is named or signed in must be a member; only dev mode,
	// which may act as anyone, reads unnamed.
	user, err := as(r, r.URL.Query().Get("user"))
	if err != nil {
		return nil, err
	}
	if user != "" {
		if err := a.member(r.Context(), name, user); err != nil {
			return nil, err
		}
	}
	recs, err := decodeAll(a.store.Channel(r.Context(), name, after, pageLimit))
	if err != nil {
		return nil, err
	}
	return inboxPage(recs, after), nil
}

func (a *Adapter) getChannels(_ http.ResponseWriter, r *http.Request) (any, error) {
	user, err := as(r, r.URL.Query().Get("user"))
	if err != nil {
		return nil, err
	}
	chans, err := a.channelsOf(r.Context(), user)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(chans))
	for i, c := range chans {
		out[i] = map[string]string{"name": c}
	}
	return map[string]any{"channels": out}, nil
}

func (a *Adapter) getUsers(_ http.ResponseWriter, r *http.Request) (any, error) {
	if a.dir == nil {
		return map[string]any{"users": []DirectoryUser{}}, nil
	}
	users, err := a.dir(r.Context())
	if err != nil {
		return nil, err
	}
	if p := principal(r); p != "" { // signed in: only oneself
		users = slices.DeleteFunc(users, func(u DirectoryUser) bool { return u.ID != p })
	}
	return map[string]any{"users": users}, nil
}

// getMe says who the request is signed in as ("" when it may act as anyone).
func (a *Adapter) getMe(_ http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]any{"user": principal(r), "dev_mode": a.cfg.DevMode}, nil
}
