package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// Module is one domain's part of the bot: its commands, button actions,
// notice renderers, timers and periodic jobs. bot.New registers the
// commands and actions; the worker and the scheduler take the timers and
// jobs from Bot.Modules. Adding a command to a domain touches that
// domain's module and its catalog file only.
type Module struct {
	Name     string                // e.g. "backup"
	Topic    string                // the help topic its commands are listed under ("" none)
	Commands []*Command            // each gets Topic unless it names its own
	Actions  map[string]ActionFunc // button action → handler, e.g. "backup.audit.sign"
	Notices  []NoticeRenderer      // one per notice type the domain emits
	Timers   map[string]TimerFunc  // timer kind → handler, e.g. "backup:check"
	Jobs     []Job                 // periodic work
}

// Plug builds a module on the bot it joins: modules render with the bot's
// language, zone and clock.
type Plug func(b *Bot) Module

// TimerFunc fires a timer that came due, by id; the domain claims it.
type TimerFunc func(ctx context.Context, timerID int64) error

// Job is periodic work: the scheduler enqueues one task per slot (under
// an id made from the slot, so several schedulers enqueue it once) and the
// worker runs it.
type Job struct {
	Type    string        // task type, e.g. "digest:daily"
	Every   time.Duration // a slot every interval, or
	At      string        // a daily slot at HH:MM in the bot's zone
	CatchUp time.Duration // how late a daily slot may still run (default 3 h)
	Run     func(ctx context.Context, slot time.Time) error
}

// NoticeRenderer renders one notice type. Build it with Renders.
type NoticeRenderer struct {
	Type   string
	decode func(version int, raw []byte) (core.Payload, error)
	render func(ref string, p core.Payload) (Message, error)
	sample func() core.Payload
}

// Renders returns the renderer of payload type T. Rows stored as version
// 0 (the string maps of the release before typed notices) are decoded
// field by field through T's json tags, or by T's DecodeLegacy method.
func Renders[T core.Payload](render func(ref string, p T) (Message, error)) NoticeRenderer {
	var zero T
	return NoticeRenderer{
		Type: zero.NoticeType(),
		decode: func(version int, raw []byte) (core.Payload, error) {
			var p T
			if version == 0 {
				err := DecodeLegacy(raw, &p)
				return p, err
			}
			if version > core.PayloadVersion(p) {
				return nil, fmt.Errorf("notice %s version %d is newer than this release (%d)", zero.NoticeType(), version, core.PayloadVersion(p))
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, fmt.Errorf("notice %s: %w", zero.NoticeType(), err)
			}
			return p, nil
		},
		render: func(ref string, p core.Payload) (Message, error) {
			v, ok := p.(T)
			if !ok {
				return Message{}, fmt.Errorf("notice %s: payload is %T", zero.NoticeType(), p)
			}
			return render(ref, v)
		},
		sample: func() core.Payload { var p T; fill(reflect.ValueOf(&p).Elem(), 0); return p },
	}
}

// LegacyDecoder is implemented by payloads whose version-0 string map does
// not map onto their json tags one to one.
type LegacyDecoder interface {
	DecodeLegacy(data map[string]string) error
}

// DecodeLegacy decodes a version-0 row (a JSON object of strings) into a
// payload: by its DecodeLegacy method when it has one, else by json tags,
// parsing numbers, booleans, times (RFC 3339) and comma-separated lists.
func DecodeLegacy(raw []byte, into any) error {
	var data map[string]string
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("legacy notice: %w", err)
	}
	if d, ok := into.(LegacyDecoder); ok {
		return d.DecodeLegacy(data)
	}
	v := reflect.ValueOf(into)
	if v.Kind() != reflect.Pointer {
		return fmt.Errorf("legacy notice: decode into %T", into)
	}
	return setFields(v.Elem(), data)
}

func setFields(v reflect.Value, data map[string]string) error {
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("legacy notice: %s is not a struct", v.Type())
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := setFields(v.Field(i), data); err != nil {
				return err
			}
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s, ok := data[name]
		if !ok {
			continue
		}
		if err := setString(v.Field(i), s); err != nil {
			return fmt.Errorf("legacy notice field %s: %w", name, err)
		}
	}
	return nil
}

var timeType = reflect.TypeOf(time.Time{})

func setString(v reflect.Value, s string) error {
	if v.Type() == timeType {
		if s == "" {
			return nil
		}
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Float64:
		if s == "" {
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case reflect.Bool:
		if s == "" {
			return nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot decode %q into %s", s, v.Type())
		}
		var parts []string
		if s != "" {
			parts = strings.Split(s, ",")
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("cannot decode %q into %s", s, v.Type())
	}
	return nil
}

// fill sets every field of v to a recognisable sample value, for the
// golden tests of renderers: strings "<name>", numbers 7, times a fixed
// instant, lists of two, nested structs and slices of structs likewise.
func fill(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(7.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			f := v.Field(i)
			if f.Kind() == reflect.String {
				f.SetString(strings.ToLower(t.Field(i).Name))
				continue
			}
			fill(f, depth+1)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String {
			m := reflect.MakeMap(v.Type())
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, depth+1)
			m.SetMapIndex(reflect.ValueOf("k"), e)
			v.Set(m)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	}
}

// Modules returns the bot's modules in the order they were plugged.
func (b *Bot) Modules() []Module { return b.modules }

// Timers returns every module's timer handlers by kind.
func (b *Bot) Timers() map[string]TimerFunc {
	out := map[string]TimerFunc{}
	for _, m := range b.modules {
		for k, fn := range m.Timers {
			out[k] = fn
		}
	}
	return out
}

// Jobs returns every module's periodic jobs.
func (b *Bot) Jobs() []Job {
	var out []Job
	for _, m := range b.modules {
		out = append(out, m.Jobs...)
	}
	return out
}

// plug adds a module: its commands, actions and renderers.
func (b *Bot) plug(m Module) {
	for _, c := range m.Commands {
		if c.Topic == "" {
			c.Topic = m.Topic
		}
		b.router.Handle(c)
	}
	for a, fn := range m.Actions {
		b.HandleAction(a, fn)
	}
	for _, r := range m.Notices {
		b.renderers[r.Type] = r
	}
	if m.Topic != "" && !slices.Contains(b.topics, m.Topic) {
		b.topics = append(b.topics, m.Topic)
	}
	b.modules = append(b.modules, m)
}

// Render turns an outbox notice into the message to deliver, in the
// language its recipient chose (the bot's when none, or for a channel).
func (b *Bot) Render(ctx context.Context, n core.StoredNotice) (Message, error) {
	if n.To.User != "" && b.org != nil && len(b.twins) > 1 {
		lang, err := b.org.Language(ctx, n.To.User)
		if err != nil {
			b.log.Warn("reading a recipient's language; rendering in the default", "user", n.To.User, "err", err)
		}
		return b.in(lang).render(n)
	}
	return b.render(n)
}

func (b *Bot) render(n core.StoredNotice) (Message, error) {
	r, ok := b.renderers[n.Type]
	if !ok {
		return Message{}, core.Invalid("unknown_notice", "kind", n.Type)
	}
	p, err := r.decode(n.Version, n.Payload)
	if err != nil {
		return Message{}, core.Invalid("bad_notice", "kind", n.Type, "reason", err.Error())
	}
	m, err := r.render(n.Ref, p)
	if err != nil {
		return Message{}, err
	}
	if m.Ref == "" {
		m.Ref = n.Ref
	}
	if m.Status == "" {
		m.Status = StatusNotice
	}
	return b.withLink(m), nil
}

// RenderNotice renders a notice as it would be delivered (tests, previews).
func (b *Bot) RenderNotice(ctx context.Context, n core.Notice) (Message, error) {
	sn, err := n.Encode()
	if err != nil {
		return Message{}, err
	}
	return b.Render(ctx, sn)
}
