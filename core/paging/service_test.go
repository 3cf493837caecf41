package paging_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/internal/fakestore"
	"opsbot/core/org"
	"opsbot/core/paging"
)

var cst = fakestore.CST

// t3 is 03:00 on a Tuesday: zhangsan is primary of the ops rotation
// (handover 09:00 daily, started Monday).
var t3 = time.Date(2026, 11, 24, 3, 0, 0, 0, cst)

// recorder is a provider that records the pages it is given; fail
// returns the error for the nth send of a method (0-based), nil for ok.
type recorder struct {
	mu      sync.Mutex
	methods []paging.Method
	pages   []paging.Page
	fail    func(p paging.Page, n int) error
	n       map[paging.Method]int
	inTx    atomic.Int32 // paging transactions running (watched)
	sentIn  int          // sends made while one ran
}

// watched is the paging store, counting the transactions that run: a
// provider is never called inside one (a rollback after the send, or a
// transaction run again, would page twice).
type watched struct {
	paging.Store
	n *atomic.Int32
}

func (s watched) InTx(ctx context.Context, fn func(paging.Tx) error) error {
	s.n.Add(1)
	defer s.n.Add(-1)
	return s.Store.InTx(ctx, fn)
}

func (r *recorder) Name() string             { return "rec" }
func (r *recorder) Methods() []paging.Method { return r.methods }
func (r *recorder) Send(_ context.Context, p paging.Page) (paging.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[paging.Method]int{}
	}
	n := r.n[p.Method]
	r.n[p.Method]++
	if r.inTx.Load() > 0 {
		r.sentIn++
	}
	if r.fail != nil {
		if err := r.fail(p, n); err != nil {
			return paging.Receipt{}, err
		}
	}
	r.pages = append(r.pages, p)
	return paging.Receipt{Provider: "rec", MessageID: string(p.Method) + "-" + p.Key, Status: "OK"}, nil
}

// sent lists the pages of kind as "method user" in order.
func (r *recorder) sent(kind paging.Kind) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pages {
		if p.Kind == kind {
			out = append(out, string(p.Method)+" "+p.UserID)
		}
	}
	return out
}

func (r *recorder) last() paging.Page {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pages[len(r.pages)-1]
}

type acks struct{ inc *incident.Service }

func (a acks) Ack(ctx context.Context, tx core.Tx, actor core.Actor, id int64) error {
	ops, err := a.inc.In(tx)
	if err != nil {
		return err
	}
	return ops.Ack(ctx, actor, id)
}

type timeline struct{ inc *incident.Service }

func (t timeline) Note(ctx context.Context, tx core.Tx, id int64, kind, body string) error {
	ops, err := t.inc.In(tx)
	if err != nil {
		return err
	}
	return ops.Note(ctx, id, core.SystemUser, kind, body)
}

type texts struct{}

func (texts) Render(p paging.Page) (string, string, string) {
	return p.Title, p.Title + " " + p.Code, ""
}

type world struct {
	*fakestore.World
	pager *paging.Service
	rec   *recorder
}

func newWorld(t *testing.T, cfg paging.Config) *world {
	t.Helper()
	w := fakestore.NewWorld(t3, cst, incident.DefaultPolicy(), alert.DefaultConfig())
	w.Tx.AddUser("city", "zhangsan", "lisi", "wangwu", "reporter")
	w.Tx.RotationMap["ops"] = duty.Rotation{Name: "ops", Unit: "city", Members: []string{"zhangsan", "lisi", "wangwu"}, Every: "day",
		Handover: "09:00", StartDate: time.Date(2026, 11, 23, 0, 0, 0, 0, cst)}
	w.Tx.Grant("reporter", org.RoleOperator, "city")
	rec := &recorder{methods: []paging.Method{paging.MethodSMS, paging.MethodVoice, paging.MethodEmail}}
	st := fakestore.Store{Tx: w.Tx}
	out := &world{World: w, rec: rec}
	cfg.Location, cfg.AckURL = cst, "https://ops.example/page/ack/"
	inc := incident.NewService(st.Incidents(), w.Clock, w.Cal, incident.Config{Channel: "ops-room", Rotation: "ops", Policy: incident.DefaultPolicy()},
		incident.Deps{Roster: w.Rotations, Coverer: w.Rotations, Pager: pagerOf{out}})
	out.Incidents = inc
	out.pager = paging.NewService(watched{st.Paging(), &rec.inTx}, w.Clock, cfg, paging.Deps{Providers: []paging.Provider{rec}, Acks: acks{inc},
		Timeline: timeline{inc}, Texts: texts{}})
	return out
}

// pagerOf lets the incident service reach the pager built after it.
type pagerOf struct{ w *world }

func (p pagerOf) Page(ctx context.Context, tx core.Tx, inc paging.Incident) error {
	return p.w.pager.Page(ctx, tx, inc)
}

// fire runs the timers due by now, as the worker would, and those they
// schedule due by now (a step's sends), until none is left.
func (w *world) fire(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		due := w.Tx.Due(w.Clock.Now())
		if len(due) == 0 {
			return
		}
		for _, tm := range due {
			var err error
			switch tm.Kind {
			case paging.TimerStep, paging.TimerSend:
				err = w.pager.HandleTimer(ctx, tm.ID)
			case incident.TimerEscalation, incident.TimerProgress:
				err = w.Incidents.HandleTimer(ctx, tm.ID)
			}
			require.NoError(t, err)
		}
	}
	t.Fatal("timers kept coming due")
}

// at moves the clock to t3+d and fires what is due.
func (w *world) at(t *testing.T, d time.Duration) {
	t.Helper()
	w.Clock.T = t3.Add(d)
	w.fire(t)
}

// verified gives user a verified mobile and e-mail, through the codes sent.
func (w *world) verified(t *testing.T, user, mobile, email string) {
	t.Helper()
	ctx := context.Background()
	a := core.Actor{UserID: user}
	for m, v := range map[paging.Method]string{paging.MethodSMS: mobile, paging.MethodEmail: email} {
		if v == "" {
			continue
		}
		_, err := w.pager.AddContact(ctx, a, m, v)
		require.NoError(t, err)
		code := w.rec.last().Code
		_, err = w.pager.Verify(ctx, a, code)
		require.NoError(t, err)
	}
}

func TestContactVerification(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{})
	a := core.Actor{UserID: "zhangsan"}
	_, err := w.pager.AddContact(ctx, a, paging.MethodSMS, "12345")
	require.Equal(t, "contact_value", fakestore.Code(err))
	_, err = w.pager.AddContact(ctx, a, "fax", "123")
	require.Equal(t, "contact_method", fakestore.Code(err))

	c, err := w.pager.AddContact(ctx, a, paging.MethodVoice, "+86 138-0013-8000")
	require.NoError(t, err)
	require.Equal(t, "13800138000", c.Value)
	pg := w.rec.last()
	require.Equal(t, paging.KindVerify, pg.Kind)
	require.Equal(t, paging.MethodSMS, pg.Method)
	require.Equal(t, "13800138000", pg.Address)
	require.Len(t, pg.Code, 6)

	wrong := "000000"
	if pg.Code == wrong {
		wrong = "111111"
	}
	_, err = w.pager.Verify(ctx, a, wrong)
	require.Equal(t, "verify_code", fakestore.Code(err))
	require.Equal(t, 1, w.Tx.ContactList[0].Attempts, "a wrong code counts")
	got, err := w.pager.Verify(ctx, a, pg.Code)
	require.NoError(t, err)
	require.True(t, got.Verified)
	_, err = w.pager.Verify(ctx, a, pg.Code)
	require.Equal(t, "verify_none", fakestore.Code(err), "nothing left to verify")

	// A code expires.
	_, err = w.pager.AddContact(ctx, a, paging.MethodEmail, "Zhang@Example.gov.cn")
	require.NoError(t, err)
	code := w.rec.last().Code
	w.Clock.Add(11 * time.Minute)
	_, err = w.pager.Verify(ctx, a, code)
	require.Equal(t, "verify_code", fakestore.Code(err))

	var actions []string
	for _, e := range w.Tx.Audits {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"paging.contact.add", "paging.contact.verify_failed", "paging.contact.verify", "paging.contact.add"}, actions)

	removed, err := w.pager.RemoveContact(ctx, a, "email")
	require.NoError(t, err)
	require.Len(t, removed, 1)
	_, err = w.pager.RemoveContact(ctx, a, "email")
	require.Equal(t, "contact_not_found", fakestore.Code(err))
}

// TestLevel2Chain: a level-Ⅱ incident at 03:00 pages its primary by SMS
// at +2 min and by voice at +5 min, once each; an SMS reply "1"
// acknowledges it and cancels the voice step; a second reply is refused.
func TestLevel2Chain(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{})
	w.verified(t, "zhangsan", "13800138000", "zs@example.gov.cn")
	w.rec.pages = nil
	inc, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "政务云数据库不可用", 2, "", "city")
	require.NoError(t, err)
	w.at(t, time.Minute)
	require.Empty(t, w.rec.sent(paging.KindIncident), "chat only at first")
	w.at(t, 2*time.Minute)
	require.Equal(t, []string{"sms zhangsan"}, w.rec.sent(paging.KindIncident))
	sms := w.rec.last()
	require.Equal(t, "13800138000", sms.Address)
	require.Equal(t, "1", sms.AckReply)
	require.Equal(t, inc.ID, sms.IncidentID)
	w.fire(t)
	require.Len(t, w.rec.sent(paging.KindIncident), 1, "a step pages once")

	// A wrong reply does nothing; "1" from the paged number acknowledges as zhangsan.
	require.Equal(t, "page_reply", fakestore.Code(w.pager.AckReply(ctx, paging.Reply{Method: paging.MethodSMS, From: "+8613800138000", Text: "2"})))
	require.NoError(t, w.pager.AckReply(ctx, paging.Reply{Method: paging.MethodSMS, From: "+8613800138000", Text: " 1 "}))
	got := w.Tx.IncidentMap[inc.ID]
	require.Equal(t, incident.StateAcknowledged, got.State)
	require.Equal(t, "zhangsan", got.Owner)
	err = w.pager.AckReply(ctx, paging.Reply{Method: paging.MethodSMS, From: "13800138000", Text: "1"})
	require.True(t, errors.Is(err, core.ErrAlreadyDecided), "%v", err)
	w.at(t, 10*time.Minute)
	require.Equal(t, []string{"sms zhangsan"}, w.rec.sent(paging.KindIncident), "the voice step was cancelled")
	kinds := w.Tx.EventKinds(inc.ID)
	require.Contains(t, kinds, "page")
	require.Contains(t, kinds, "ack")
}

// TestVoiceKeypress: key 1 in the call, matched by its receipt id.
func TestVoiceKeypress(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{})
	w.verified(t, "zhangsan", "13800138000", "")
	inc, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "核心交换机宕机", 1, "", "city")
	require.NoError(t, err)
	w.at(t, 5*time.Minute)
	call := w.rec.last()
	require.Equal(t, paging.MethodVoice, call.Method)
	err = w.pager.AckReply(ctx, paging.Reply{Method: paging.MethodVoice, MessageID: "voice-" + call.Key, Text: "1"})
	require.NoError(t, err)
	require.Equal(t, incident.StateAcknowledged, w.Tx.IncidentMap[inc.ID].State)
}

// TestAckLinkOnce: the e-mail's link acknowledges once; a second use is refused.
func TestAckLinkOnce(t *testing.T) {
	ctx := context.Background()
	rules := paging.DefaultRules()
	rules[2] = []paging.Rule{{0, paging.MethodChat}, {time.Minute, paging.MethodEmail}}
	w := newWorld(t, paging.Config{Rules: rules})
	w.verified(t, "zhangsan", "", "zs@example.gov.cn")
	inc, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "门户网站篡改", 2, "", "city")
	require.NoError(t, err)
	w.at(t, time.Minute)
	mail := w.rec.last()
	require.Equal(t, paging.MethodEmail, mail.Method)
	require.True(t, strings.HasPrefix(mail.AckURL, "https://ops.example/page/ack/"))
	token := strings.TrimPrefix(mail.AckURL, "https://ops.example/page/ack/")
	for _, tok := range w.Tx.TokenList {
		require.NotContains(t, tok.Hash, token, "hashed at rest")
	}
	require.Equal(t, "ack_link_not_found", fakestore.Code(w.pager.AckLink(ctx, "nonsense")))
	require.NoError(t, w.pager.AckLink(ctx, token))
	require.Equal(t, incident.StateAcknowledged, w.Tx.IncidentMap[inc.ID].State)
	require.True(t, errors.Is(w.pager.AckLink(ctx, token), core.ErrAlreadyDecided))
}

// TestRetryThenFallback: a transient failure is retried with backoff and
// the same key; a permanent one falls back to the person's next method.
func TestRetryThenFallback(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{Backoff: 10 * time.Second})
	w.verified(t, "zhangsan", "13800138000", "zs@example.gov.cn")
	w.rec.pages, w.rec.n = nil, nil
	w.rec.fail = func(p paging.Page, n int) error {
		if p.Method == paging.MethodSMS && p.Kind == paging.KindIncident && n < 3 {
			return errors.New("gateway timeout")
		}
		if p.Method == paging.MethodVoice {
			return paging.Permanent(errors.New("number refused"))
		}
		return nil
	}
	_, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "机房断电", 2, "", "city")
	require.NoError(t, err)
	w.at(t, 2*time.Minute) // first try fails
	require.Empty(t, w.rec.sent(paging.KindIncident))
	w.at(t, 2*time.Minute+10*time.Second) // second fails, next wait 20s
	require.Empty(t, w.rec.sent(paging.KindIncident))
	w.at(t, 2*time.Minute+25*time.Second)
	require.Empty(t, w.rec.sent(paging.KindIncident), "not due before the doubled backoff")
	// third attempt fails too: retries exhausted → falls back to voice (refused) → e-mail.
	w.at(t, 2*time.Minute+30*time.Second)
	require.Equal(t, []string{"email zhangsan"}, w.rec.sent(paging.KindIncident))
	w.at(t, 5*time.Minute) // the call is refused: that step falls back to SMS, which works again
	require.Equal(t, []string{"email zhangsan", "sms zhangsan"}, w.rec.sent(paging.KindIncident))
	var statuses []string
	for _, p := range w.Tx.PageList {
		statuses = append(statuses, string(p.Method)+":"+p.Status)
	}
	require.Equal(t, []string{"sms:failed", "voice:failed", "email:sent", "voice:failed", "sms:sent"}, statuses)
}

// TestRateLimitAndQuiet: at most MaxPerHour SMS/calls per person per hour;
// quiet hours hold level Ⅲ/Ⅳ pages back, never level Ⅰ/Ⅱ.
func TestRateLimitAndQuiet(t *testing.T) {
	ctx := context.Background()
	rules := paging.DefaultRules()
	rules[3] = []paging.Rule{{0, paging.MethodChat}, {time.Minute, paging.MethodSMS}}
	w := newWorld(t, paging.Config{Rules: rules, MaxPerHour: 2})
	w.verified(t, "zhangsan", "13800138000", "")
	_, err := w.pager.SetQuiet(ctx, core.Actor{UserID: "zhangsan"}, "22:00-7:00")
	require.NoError(t, err)
	_, err = w.pager.SetQuiet(ctx, core.Actor{UserID: "zhangsan"}, "25:00-07:00")
	require.Equal(t, "quiet_hours", fakestore.Code(err))
	w.rec.pages = nil
	_, err = w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "日志磁盘将满", 3, "", "city")
	require.NoError(t, err)
	w.at(t, time.Minute)
	require.Empty(t, w.rec.sent(paging.KindIncident), "level Ⅲ waits for the morning")
	for _, title := range []string{"一", "二", "三"} {
		_, err = w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "故障"+title, 2, "", "city")
		require.NoError(t, err)
	}
	w.at(t, 3*time.Minute)
	require.Equal(t, []string{"sms zhangsan", "sms zhangsan"}, w.rec.sent(paging.KindIncident), "two an hour")
	var statuses []string
	for _, p := range w.Tx.PageList {
		statuses = append(statuses, p.Status)
	}
	require.Equal(t, []string{"quiet", "sent", "sent", "rate_limited"}, statuses)
}

func TestParseRules(t *testing.T) {
	r, err := paging.ParseRules("chat; 2m sms; 5m voice")
	require.NoError(t, err)
	require.Equal(t, "chat; 2m0s sms; 5m0s voice", paging.FormatRules(r))
	for _, bad := range []string{"", "2m sms", "chat; 5m sms; 2m voice", "chat; 1m fax"} {
		_, err := paging.ParseRules(bad)
		require.Error(t, err, bad)
	}
	q, err := paging.ParseQuiet("22:00-07:00")
	require.NoError(t, err)
	require.True(t, q.Holds(time.Date(2026, 1, 1, 3, 0, 0, 0, cst)))
	require.False(t, q.Holds(time.Date(2026, 1, 1, 12, 0, 0, 0, cst)))
}

// TestProvidersAreCalledOutsideTransactions: no page (nor a verification
// code) is sent inside a transaction, so a transaction that fails or is
// run again after the send cannot page twice.
func TestProvidersAreCalledOutsideTransactions(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{Backoff: 10 * time.Second})
	w.verified(t, "zhangsan", "13800138000", "zs@example.gov.cn")
	require.Zero(t, w.rec.sentIn, "a verification code was sent inside a transaction")
	w.rec.pages, w.rec.n = nil, nil
	w.rec.fail = func(p paging.Page, n int) error {
		if p.Method == paging.MethodSMS && n == 0 {
			return errors.New("gateway timeout")
		}
		return nil
	}
	_, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "机房断电", 2, "", "city")
	require.NoError(t, err)
	w.at(t, 2*time.Minute)
	w.at(t, 2*time.Minute+10*time.Second)
	w.at(t, 5*time.Minute)
	require.Equal(t, []string{"sms zhangsan", "voice zhangsan"}, w.rec.sent(paging.KindIncident))
	require.Zero(t, w.rec.sentIn, "a provider was called inside a transaction")
}

// TestSendCutShortIsSentAgain: a worker that dies while a page is with the
// provider (its attempt began, its outcome never recorded) does not drop
// the page: it is sent again once the attempt's lease is over, once.
func TestSendCutShortIsSentAgain(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{})
	w.verified(t, "zhangsan", "13800138000", "")
	w.rec.pages, w.rec.n = nil, nil
	w.rec.fail = func(p paging.Page, n int) error {
		if p.Method == paging.MethodSMS && n == 0 {
			panic("worker killed mid-send")
		}
		return nil
	}
	_, err := w.Incidents.Declare(ctx, core.Actor{UserID: "reporter"}, "机房断电", 2, "", "city")
	require.NoError(t, err)
	w.Clock.T = t3.Add(2 * time.Minute)
	require.Panics(t, func() {
		for range 3 {
			for _, tm := range w.Tx.Due(w.Clock.Now()) {
				_ = w.pager.HandleTimer(ctx, tm.ID)
			}
		}
	})
	require.Empty(t, w.rec.sent(paging.KindIncident))
	w.at(t, 2*time.Minute+time.Minute)
	require.Empty(t, w.rec.sent(paging.KindIncident), "not sent again while the attempt may still be under way")
	w.at(t, 2*time.Minute+paging.SendLease+time.Second)
	require.Equal(t, []string{"sms zhangsan"}, w.rec.sent(paging.KindIncident))
	w.at(t, 4*time.Minute+30*time.Second)
	require.Equal(t, []string{"sms zhangsan"}, w.rec.sent(paging.KindIncident), "sent again once only")
	require.Equal(t, paging.StatusSent, w.Tx.PageList[0].Status)
	require.Equal(t, 2, w.Tx.PageList[0].Attempts)
}

// TestNoProviderNoContact: with nothing to send the code by, adding a
// contact is refused at once and stores nothing; a mobile's code goes by
// the gateway webhook when no SMS provider is set up.
func TestNoProviderNoContact(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, paging.Config{})
	w.rec.methods = []paging.Method{paging.MethodEmail}
	_, err := w.pager.AddContact(ctx, core.Actor{UserID: "zhangsan"}, paging.MethodVoice, "13800138000")
	require.Equal(t, "contact_no_provider", fakestore.Code(err))
	require.Empty(t, w.Tx.ContactList)
	_, err = w.pager.AddContact(ctx, core.Actor{UserID: "zhangsan"}, paging.MethodEmail, "zs@example.gov.cn")
	require.NoError(t, err)
	w.rec.methods = []paging.Method{paging.MethodWebhook}
	_, err = w.pager.AddContact(ctx, core.Actor{UserID: "zhangsan"}, paging.MethodSMS, "13800138000")
	require.NoError(t, err)
	require.Equal(t, paging.MethodWebhook, w.rec.last().Method)
	require.Equal(t, paging.KindVerify, w.rec.last().Kind)
}
