package paging

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// Timer kinds, both about an incident ("incident:N"): a notification
// step, and an attempt to send one page (data: page, try; the stored kind
// keeps its first name, paging:retry).
const (
	TimerStep = "paging:step"
	TimerSend = "paging:retry"
)

// SendLease is how long an attempt to send a page may be under way before
// it counts as cut short (the worker died while the page was with the
// provider) and the page is sent again. Providers answer or time out well
// within it.
const SendLease = 2 * time.Minute

// Config tunes paging.
type Config struct {
	Rules        map[int][]Rule // per level 1–4; DefaultRules when nil
	MaxPerHour   int            // SMS and calls per person per hour (6 when 0)
	Attempts     int            // sends of one page before it fails (3 when 0)
	Backoff      time.Duration  // wait before the first retry, doubled each time (30s when 0)
	CodeTTL      time.Duration  // how long a verification code holds (10m when 0)
	CodeAttempts int            // wrong codes before a contact must be added again (5 when 0)
	TokenTTL     time.Duration  // how long an acknowledge link holds (24h when 0)
	AckURL       string         // base of the acknowledge links, e.g. https://opsbot.example/page/ack/
	Location     *time.Location // where quiet hours are read (UTC when nil)
}

// Incident is what the paging service needs of an incident to page it.
type Incident struct {
	ID    int64
	Level int
	Title string
	Users []string // who to page
}

func (i Incident) ref() string { return "incident:" + strconv.FormatInt(i.ID, 10) }

// Acknowledger acknowledges an incident as a person inside tx, on the
// incident service's own path (audited, once): the reply or link that
// acknowledges is spent in the same transaction.
type Acknowledger interface {
	Ack(ctx context.Context, tx core.Tx, actor core.Actor, incidentID int64) error
}

// Timeline adds an event to an incident's timeline inside tx.
type Timeline interface {
	Note(ctx context.Context, tx core.Tx, incidentID int64, kind, body string) error
}

// Texts renders a page's subject, text and HTML in its language.
type Texts interface {
	Render(p Page) (subject, text, html string)
}

// Deps are what the paging service calls.
type Deps struct {
	Providers []Provider // in order of preference per method
	Acks      Acknowledger
	Timeline  Timeline // nil: delivery status is audited only
	Texts     Texts
}

// Service keeps contacts, pages people by their rules and takes
// acknowledgements that come back through pages (it is an Acker).
type Service struct {
	store Store
	clock core.Clock
	cfg   Config
	deps  Deps
}

// NewService returns the paging service.
func NewService(store Store, clock core.Clock, cfg Config, deps Deps) *Service {
	if cfg.Rules == nil {
		cfg.Rules = DefaultRules()
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Backoff, 30*time.Second)
	def(&cfg.CodeTTL, 10*time.Minute)
	def(&cfg.TokenTTL, 24*time.Hour)
	if cfg.MaxPerHour <= 0 {
		cfg.MaxPerHour = 6
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.CodeAttempts <= 0 {
		cfg.CodeAttempts = 5
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Service{store: store, clock: clock, cfg: cfg, deps: deps}
}

var _ Acker = (*Service)(nil)

// Rules returns the notification chain of a level.
func (s *Service) Rules(level int) []Rule { return s.cfg.Rules[level] }

// Sends reports whether a provider sends method m (a chain's step by a
// method none sends pages nobody).
func (s *Service) Sends(m Method) bool { return s.provider(m) != nil }

// ---- contacts

var (
	mobileRe = regexp.MustCompile(`^(\+?86)?1[3-9]\d{9}$`)
	emailRe  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// NormalizeMobile reduces a mainland mobile number to its 11 digits
// ("+86 138-0000-0000" → "13800000000"), "" when it is none.
func NormalizeMobile(s string) string {
	s = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	if !mobileRe.MatchString(s) {
		return ""
	}
	return s[len(s)-11:]
}

func invalidQuiet(s string) error { return core.Invalid("quiet_hours", "value", s) }

func (s *Service) audit(ctx context.Context, tx core.Tx, actor core.Actor, action, entity string, before, after any) error {
	return core.Record(ctx, tx, s.clock.Now(), actor, action, entity, before, after)
}

// AddContact adds an unverified mobile (method sms or voice) or e-mail
// address for the actor and sends it a verification code.
func (s *Service) AddContact(ctx context.Context, actor core.Actor, method Method, value string) (Contact, error) {
	c := Contact{UserID: actor.UserID, CreatedAt: s.clock.Now(), CodeExpires: s.clock.Now().Add(s.cfg.CodeTTL)}
	switch method {
	case MethodSMS, MethodVoice:
		c.Kind, c.Value = ContactMobile, NormalizeMobile(value)
	case MethodEmail:
		c.Kind, c.Value = ContactEmail, strings.ToLower(strings.TrimSpace(value))
		if !emailRe.MatchString(c.Value) {
			c.Value = ""
		}
	default:
		return Contact{}, core.Invalid("contact_method", "value", string(method))
	}
	if c.Value == "" {
		return Contact{}, core.Invalid("contact_value", "value", value)
	}
	// The code goes by SMS, or by the gateway webhook (a government SMS
	// gateway) when no SMS provider is set up; to an e-mail address by
	// e-mail. Nothing to send it by: say so before a contact is stored
	// that could never be verified.
	via := MethodEmail
	if c.Kind == ContactMobile {
		via = MethodSMS
		if s.provider(via) == nil {
			via = MethodWebhook
		}
	}
	if s.provider(via) == nil {
		return Contact{}, core.Conflict("contact_no_provider", "method", string(method))
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return Contact{}, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	c.CodeHash = core.HashSecret(code)
	var lang, name string
	err = s.store.InTx(ctx, func(tx Tx) error {
		u, err := ActiveUser(ctx, tx, actor.UserID)
		if err != nil {
			return core.Forbidden("not_registered", "id", actor.UserID)
		}
		lang, name = u.Language, u.Name
		p, err := tx.Profile(ctx, actor.UserID)
		if err != nil {
			return err
		}
		for _, old := range p.Contacts {
			if old.Kind == c.Kind && old.Value == c.Value {
				if old.Verified {
					return core.Conflict("contact_exists", "value", c.Value)
				}
				c.ID = old.ID // a new code for the same number
			}
		}
		if err := tx.SaveContact(ctx, &c); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "paging.contact.add", contactRef(c), nil, c)
	})
	if err != nil {
		return Contact{}, err
	}
	pg := Page{Key: "verify:" + strconv.FormatInt(c.ID, 10) + ":" + c.CodeHash[:8], Kind: KindVerify, Method: via, Address: c.Value,
		UserID: actor.UserID, Name: name, Lang: lang, Code: code, At: s.clock.Now()}
	if _, err := s.send(ctx, pg); err != nil {
		return c, core.Conflict("verify_send", "value", c.Value).Because(err)
	}
	return c, nil
}

func contactRef(c Contact) string { return "contact:" + strconv.FormatInt(c.ID, 10) }

// Verify checks a verification code against the actor's unverified
// contacts: a match verifies it; a wrong code counts against each.
func (s *Service) Verify(ctx context.Context, actor core.Actor, code string) (Contact, error) {
	code = strings.TrimSpace(code)
	var out Contact
	var refusal error
	err := s.store.InTx(ctx, func(tx Tx) error {
		p, err := tx.Profile(ctx, actor.UserID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		pending := false
		for _, c := range p.Contacts {
			if c.Verified || c.CodeHash == "" || c.Attempts >= s.cfg.CodeAttempts {
				continue
			}
			pending = true
			if now.After(c.CodeExpires) {
				continue
			}
			before := c
			if c.CodeHash == core.HashSecret(code) {
				c.Verified, c.CodeHash = true, ""
				out = c
				if err := tx.SaveContact(ctx, &c); err != nil {
					return err
				}
				return s.audit(ctx, tx, actor, "paging.contact.verify", contactRef(c), before, c)
			}
			c.Attempts++
			if err := tx.SaveContact(ctx, &c); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, "paging.contact.verify_failed", contactRef(c), before, c); err != nil {
				return err
			}
		}
		if !pending {
			refusal = core.NotFound("verify_none")
		} else {
			refusal = core.Invalid("verify_code", "value", code)
		}
		return nil // the failed attempts are kept
	})
	if err == nil {
		err = refusal
	}
	return out, err
}

// Contacts returns the actor's profile.
func (s *Service) Contacts(ctx context.Context, actor core.Actor) (Profile, error) {
	var p Profile
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		p, err = tx.Profile(ctx, actor.UserID)
		return err
	})
	return p, err
}

// RemoveContact removes the actor's contact by id or every contact of
// a method (sms/voice: the mobile; email).
func (s *Service) RemoveContact(ctx context.Context, actor core.Actor, which string) ([]Contact, error) {
	var out []Contact
	err := s.store.InTx(ctx, func(tx Tx) error {
		p, err := tx.Profile(ctx, actor.UserID)
		if err != nil {
			return err
		}
		for _, c := range p.Contacts {
			if strconv.FormatInt(c.ID, 10) == which || kindOf(Method(which)) == c.Kind {
				if err := tx.DeleteContact(ctx, c.ID); err != nil {
					return err
				}
				if err := s.audit(ctx, tx, actor, "paging.contact.remove", contactRef(c), c, nil); err != nil {
					return err
				}
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return core.NotFound("contact_not_found", "value", which)
		}
		return nil
	})
	return out, err
}

// SetQuiet sets the actor's quiet hours ("22:00-07:00"), or clears
// them ("off").
func (s *Service) SetQuiet(ctx context.Context, actor core.Actor, value string) (string, error) {
	q := ""
	if v := strings.TrimSpace(value); v != "off" {
		w, err := ParseQuiet(v)
		if err != nil {
			return "", err
		}
		q = w.String()
	}
	return q, s.store.InTx(ctx, func(tx Tx) error {
		p, err := tx.Profile(ctx, actor.UserID)
		if err != nil {
			return err
		}
		if err := tx.SetQuiet(ctx, actor.UserID, q); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "paging.quiet", "user:"+actor.UserID, map[string]string{"quiet": p.Quiet}, map[string]string{"quiet": q})
	})
}

func kindOf(m Method) string {
	switch m {
	case MethodSMS, MethodVoice, MethodWebhook:
		return ContactMobile
	case MethodEmail:
		return ContactEmail
	}
	return ""
}

// ---- pages

// Page starts paging an incident's people by their rules: one timer per
// step beyond chat (chat is the incident's card, sent already). The
// incident service calls it inside the declaring or escalating
// transaction; acknowledging cancels the steps and sends (TimerStep, TimerSend).
func (s *Service) Page(ctx context.Context, tx core.Tx, inc Incident) error {
	if len(inc.Users) == 0 {
		return nil
	}
	for n, r := range s.cfg.Rules[inc.Level] {
		if r.Method == MethodChat {
			continue
		}
		err := tx.Schedule(ctx, core.Timer{Kind: TimerStep, Ref: inc.ref(), DueAt: s.clock.Now().Add(r.After), Data: map[string]string{
			"step": strconv.Itoa(n), "method": string(r.Method), "users": strings.Join(inc.Users, ","),
			"level": strconv.Itoa(inc.Level), "title": inc.Title}})
		if err != nil {
			return err
		}
	}
	return nil
}

// HandleTimer fires a notification step, or an attempt to send a page,
// once. A step only stores its pages and schedules their sends; a send
// begins in one transaction (the attempt counted, a lease taken), calls
// the provider outside any transaction, and records the outcome in
// another: a transaction that fails or runs again never pages twice.
func (s *Service) HandleTimer(ctx context.Context, id int64) error {
	var job *sendJob
	err := core.Fire(ctx, s.store.InTx, id, s.clock.Now(), func(tx Tx, t core.Timer) error {
		job = nil // fn may run again
		iid, err := incidentOf(t)
		if err != nil {
			return err
		}
		switch t.Kind {
		case TimerStep:
			level, _ := strconv.Atoi(t.Data["level"])
			step, _ := strconv.Atoi(t.Data["step"])
			inc := Incident{ID: iid, Level: level, Title: t.Data["title"]}
			for _, u := range strings.Split(t.Data["users"], ",") {
				if err := s.pageUser(ctx, tx, inc, u, step, Method(t.Data["method"])); err != nil {
					return err
				}
			}
		case TimerSend:
			job, err = s.begin(ctx, tx, iid, t.Data)
			return err
		}
		return nil
	}, func(tx Tx, t core.Timer) error {
		iid, err := incidentOf(t)
		if err != nil {
			return err
		}
		return tx.HoldIncident(ctx, iid)
	})
	if err != nil || job == nil {
		return err
	}
	r, sendErr := s.send(ctx, job.page)
	return s.finish(ctx, job.rec, r, sendErr)
}

// incidentOf is the incident a paging timer is about ("incident:N").
func incidentOf(t core.Timer) (int64, error) {
	iid, err := t.RefID("incident:")
	if err != nil {
		return 0, fmt.Errorf("paging: %w", err)
	}
	return iid, nil
}

// sendJob is an attempt begun: the page as stored and as sent.
type sendJob struct {
	rec  Record
	page Page
}

// scheduleSend schedules attempt try of page rec at at; recover marks the
// timer that takes over an attempt cut short.
func (s *Service) scheduleSend(ctx context.Context, tx Tx, rec Record, try int, at time.Time, recover bool) error {
	data := map[string]string{"page": strconv.FormatInt(rec.ID, 10), "try": strconv.Itoa(try)}
	if recover {
		data["recover"] = "1"
	}
	return tx.Schedule(ctx, core.Timer{Kind: TimerSend, Ref: "incident:" + strconv.FormatInt(rec.IncidentID, 10), DueAt: at, Data: data})
}

// begin starts attempt data["try"] of a page in tx: nothing when the page
// is done with (sent, failed, acknowledged) or the attempt has begun
// already; a recovery timer acts only on an attempt cut short. It counts
// the attempt, schedules the recovery of the next and, for e-mail and the
// webhook, stores a one-time acknowledge link.
func (s *Service) begin(ctx context.Context, tx Tx, incidentID int64, data map[string]string) (*sendJob, error) {
	pid, _ := strconv.ParseInt(data["page"], 10, 64)
	pages, err := tx.FindPages(ctx, Filter{IncidentID: incidentID, Statuses: []string{StatusSending, StatusRetrying}})
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(pages, func(p Record) bool { return p.ID == pid })
	if i < 0 {
		return nil, nil
	}
	rec := pages[i]
	try, err := strconv.Atoi(data["try"])
	if err != nil {
		try = rec.Attempts + 1 // a timer from before tries were counted
	}
	if rec.Attempts >= try || data["recover"] == "1" && !(rec.Status == StatusSending && rec.Attempts == try-1) {
		return nil, nil
	}
	now := s.clock.Now()
	if try > s.cfg.Attempts { // the last attempt was cut short
		rec.Status, rec.Error = StatusFailed, "attempt cut short"
		return nil, s.record(ctx, tx, rec)
	}
	rec.Attempts, rec.Status = try, StatusSending
	if err := s.scheduleSend(ctx, tx, rec, try+1, now.Add(SendLease), true); err != nil {
		return nil, err
	}
	if _, err := tx.SavePage(ctx, &rec); err != nil {
		return nil, err
	}
	u, err := tx.User(ctx, rec.UserID)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		return nil, err
	}
	pg := Page{Key: rec.Key, Kind: KindIncident, Method: rec.Method, Address: rec.Address, UserID: rec.UserID, Name: u.Name,
		Lang: u.Language, IncidentID: rec.IncidentID, Level: rec.Level, Title: rec.Title, AckReply: "1", At: now}
	if rec.Method == MethodEmail || rec.Method == MethodWebhook {
		tok, err := core.RandomSecret(24)
		if err != nil {
			return nil, err
		}
		if err := tx.PutToken(ctx, Token{Hash: core.HashSecret(tok), PageID: rec.ID, IncidentID: rec.IncidentID, UserID: rec.UserID,
			Expires: now.Add(s.cfg.TokenTTL)}); err != nil {
			return nil, err
		}
		pg.AckURL = s.cfg.AckURL + tok
	}
	return &sendJob{rec: rec, page: pg}, nil
}

// finish records what became of an attempt: sent, retried later with
// backoff, or failed (falling back to the person's next method). The page
// has gone out (or not) already, so the record is tried four times over
// about two seconds, even as ctx ends; an outcome never recorded leaves
// the page to the recovery timer, which sends it again.
func (s *Service) finish(ctx context.Context, rec Record, r Receipt, sendErr error) error {
	attempt := rec.Attempts
	switch {
	case sendErr == nil:
		rec.Status, rec.Provider, rec.MessageID, rec.Error = StatusSent, r.Provider, r.MessageID, ""
	case IsPermanent(sendErr) || rec.Attempts >= s.cfg.Attempts:
		rec.Status, rec.Error = StatusFailed, sendErr.Error()
	default:
		rec.Status, rec.Error = StatusRetrying, sendErr.Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		err = s.store.InTx(ctx, func(tx Tx) error {
			pages, err := tx.FindPages(ctx, Filter{IncidentID: rec.IncidentID, Statuses: []string{StatusSending}})
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(pages, func(p Record) bool { return p.ID == rec.ID && p.Attempts == attempt }) {
				return nil // taken over as cut short: a recovery attempt began
			}
			if rec.Status == StatusRetrying {
				if err := s.scheduleSend(ctx, tx, rec, attempt+1, s.clock.Now().Add(s.cfg.Backoff<<(attempt-1)), false); err != nil {
					return err
				}
			}
			return s.record(ctx, tx, rec)
		})
		if err == nil || wait > 2*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// record stores a page's outcome, notes it on the incident's timeline and
// falls back to the person's next method when it failed.
func (s *Service) record(ctx context.Context, tx Tx, rec Record) error {
	if _, err := tx.SavePage(ctx, &rec); err != nil {
		return err
	}
	if err := s.delivered(ctx, tx, rec); err != nil {
		return err
	}
	if rec.Status == StatusFailed {
		return s.fallback(ctx, tx, rec)
	}
	return nil
}

// fallbackOrder is the order a person's methods are tried in when one fails.
var fallbackOrder = []Method{MethodSMS, MethodVoice, MethodWebhook, MethodEmail}

// pageUser pages one person by one method for one step, once per
// (incident, user, step, method); a failure falls back to the person's next method.
func (s *Service) pageUser(ctx context.Context, tx Tx, inc Incident, user string, step int, m Method) error {
	if user == "" {
		return nil
	}
	now := s.clock.Now()
	rec := Record{Key: fmt.Sprintf("%s/%s/%d/%s", inc.ref(), user, step, m), IncidentID: inc.ID, UserID: user, Step: step,
		Method: m, Level: inc.Level, Title: inc.Title, At: now, Status: StatusSending}
	p, err := tx.Profile(ctx, user)
	if err != nil {
		return err
	}
	rec.Address = addressOf(p, m)
	switch {
	case rec.Address == "" || s.provider(m) == nil:
		rec.Status = StatusNoContact
	case inc.Level > 2 && p.Quiet != "" && quietAt(p.Quiet, now.In(s.cfg.Location)):
		rec.Status = StatusQuiet
	case m == MethodSMS || m == MethodVoice:
		sent, err := tx.FindPages(ctx, Filter{UserID: user, Methods: []Method{MethodSMS, MethodVoice},
			Statuses: []string{StatusSending, StatusRetrying, StatusSent}, Since: now.Add(-time.Hour)})
		if err != nil {
			return err
		}
		if len(sent) >= s.cfg.MaxPerHour {
			rec.Status = StatusRateLimited
		}
	}
	inserted, err := tx.SavePage(ctx, &rec)
	if err != nil || !inserted {
		return err // paged already: a storm or a reopen does not page again
	}
	if rec.Status != StatusSending {
		if err := s.delivered(ctx, tx, rec); err != nil {
			return err
		}
		if rec.Status == StatusNoContact {
			return s.fallback(ctx, tx, rec)
		}
		return nil
	}
	return s.scheduleSend(ctx, tx, rec, 1, now, false)
}

func quietAt(q string, t time.Time) bool {
	w, err := ParseQuiet(q)
	return err == nil && w.Holds(t)
}

func addressOf(p Profile, m Method) string {
	for _, c := range p.Contacts {
		if c.Verified && c.Kind == kindOf(m) {
			return c.Value
		}
	}
	return ""
}

func (s *Service) provider(m Method) Provider {
	for _, p := range s.deps.Providers {
		if slices.Contains(p.Methods(), m) {
			return p
		}
	}
	return nil
}

// send renders and sends one page by the first provider of its method.
func (s *Service) send(ctx context.Context, pg Page) (Receipt, error) {
	prov := s.provider(pg.Method)
	if prov == nil {
		return Receipt{}, Permanent(fmt.Errorf("no provider for %s", pg.Method))
	}
	if s.deps.Texts != nil {
		pg.Subject, pg.Text, pg.HTML = s.deps.Texts.Render(pg)
	}
	return prov.Send(ctx, pg)
}

// fallback pages the person by their next method after rec's: one not
// tried for this step yet.
func (s *Service) fallback(ctx context.Context, tx Tx, rec Record) error {
	pages, err := tx.FindPages(ctx, Filter{IncidentID: rec.IncidentID, UserID: rec.UserID})
	if err != nil {
		return err
	}
	tried := []Method{rec.Method}
	for _, p := range pages {
		if p.Step == rec.Step {
			tried = append(tried, p.Method)
		}
	}
	p, err := tx.Profile(ctx, rec.UserID)
	if err != nil {
		return err
	}
	for _, m := range fallbackOrder {
		if !slices.Contains(tried, m) && addressOf(p, m) != "" && s.provider(m) != nil {
			return s.pageUser(ctx, tx, Incident{ID: rec.IncidentID, Level: rec.Level, Title: rec.Title}, rec.UserID, rec.Step, m)
		}
	}
	return nil
}

// Event is a page's status as noted on the incident's timeline (the
// body of a "page" event, JSON): the bot renders it in the reader's
// language, the API hands it out as it is.
type Event struct {
	Method    Method `json:"method"`
	User      string `json:"user"`
	Status    string `json:"status"`
	Provider  string `json:"provider,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ParseEvent reads the body of a "page" timeline event; ok is false for
// a body of another form (an older English line).
func ParseEvent(body string) (e Event, ok bool) {
	if json.Unmarshal([]byte(body), &e) != nil || e.Method == "" || e.Status == "" {
		return Event{}, false
	}
	return e, true
}

// delivered records a page's status on the incident's timeline and in
// the audit log.
func (s *Service) delivered(ctx context.Context, tx Tx, rec Record) error {
	if s.deps.Timeline != nil {
		body, err := json.Marshal(Event{Method: rec.Method, User: rec.UserID, Status: rec.Status, Provider: rec.Provider,
			MessageID: rec.MessageID, Error: rec.Error})
		if err != nil {
			return err
		}
		if err := s.deps.Timeline.Note(ctx, tx, rec.IncidentID, "page", string(body)); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, core.SystemActor(), "paging.page", "page:"+strconv.FormatInt(rec.ID, 10), nil, rec)
}

// ---- acknowledgements

// AckReply acknowledges the incident of the page a reply answers (an SMS
// "1" from the paged number, key 1 in the call whose receipt id it
// gives), as the person paged; a second reply to the same page is refused.
// The acknowledgement and the page's mark commit together; the incident
// is locked before the page is written (the lock order: incident, timers,
// pages).
func (s *Service) AckReply(ctx context.Context, r Reply) error {
	if strings.TrimSpace(r.Text) != "1" {
		return core.Invalid("page_reply", "value", r.Text)
	}
	f := Filter{Statuses: []string{StatusSent}, Limit: 1}
	if r.MessageID != "" {
		f.MessageID = r.MessageID
	} else {
		f.Address, f.Methods, f.Since = NormalizeMobile(r.From), []Method{r.Method}, s.clock.Now().Add(-24*time.Hour)
		if f.Address == "" {
			return core.NotFound("page_not_found", "value", r.From)
		}
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		pages, err := tx.FindPages(ctx, f)
		if err != nil {
			return err
		}
		if len(pages) == 0 {
			return core.NotFound("page_not_found", "value", r.From+r.MessageID)
		}
		rec := pages[0]
		if rec.AckedAt != nil {
			return core.AlreadyDecided("page_acked", "id", strconv.FormatInt(rec.IncidentID, 10))
		}
		if err := s.ack(ctx, tx, rec.UserID, r.Method, rec.IncidentID); err != nil {
			return err
		}
		before, now := rec, s.clock.Now()
		rec.AckedAt = &now
		if _, err := tx.SavePage(ctx, &rec); err != nil {
			return err
		}
		return s.audit(ctx, tx, core.Actor{UserID: rec.UserID, Platform: string(r.Method)}, "paging.ack.reply",
			"page:"+strconv.FormatInt(rec.ID, 10), before, rec)
	})
}

// AckLink acknowledges the incident of a one-time link; a used or
// expired link is refused. Spending the link and acknowledging commit
// together: a failed acknowledgement leaves the link unused.
func (s *Service) AckLink(ctx context.Context, token string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		now := s.clock.Now()
		t, used, err := tx.UseToken(ctx, core.HashSecret(strings.TrimSpace(token)), now)
		if errors.Is(err, core.ErrNotFound) {
			return core.NotFound("ack_link_not_found")
		}
		if err != nil {
			return err
		}
		if !used {
			return core.AlreadyDecided("ack_link_used", "id", strconv.FormatInt(t.IncidentID, 10))
		}
		if now.After(t.Expires) {
			return core.Conflict("ack_link_expired", "id", strconv.FormatInt(t.IncidentID, 10))
		}
		if err := s.ack(ctx, tx, t.UserID, MethodEmail, t.IncidentID); err != nil {
			return err
		}
		return s.audit(ctx, tx, core.Actor{UserID: t.UserID, Platform: "link"}, "paging.ack.link",
			"incident:"+strconv.FormatInt(t.IncidentID, 10), nil, map[string]any{"page": t.PageID})
	})
}

func (s *Service) ack(ctx context.Context, tx Tx, user string, via Method, incidentID int64) error {
	if s.deps.Acks == nil {
		return fmt.Errorf("paging: no acknowledger wired")
	}
	return s.deps.Acks.Ack(ctx, tx, core.Actor{UserID: user, Platform: "page:" + string(via)}, incidentID)
}
