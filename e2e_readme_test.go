package main

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/bot"
	"opsbot/core/calendar"
)

// chatStep is one line of a README ```chat block: user says text (or taps
// the button labelled tap), and the replies and inboxes show expect.
type chatStep struct {
	line, user, text, tap, clock string
	expect                       []string
	fresh                        bool // a new app on a fresh demo org
}

var chatLine = regexp.MustCompile(`^([a-z][a-z0-9_.-]*):\s+(.+)$`)

// readmeChats reads README.md's ```chat blocks, in order: "# clock: <when>"
// sets the clock (a moment bot.ParseWhen reads, from the current one);
// "# fresh demo org" starts the next lines on a new app and demo org;
// other "#" lines, and " # …" after a step, are comments. A step is
// "user: /command …" (a trailing "\" continues it on the next line) or
// "user: taps <button> [on #<request>]", then any "→ <expected>" parts, on
// the line or on lines of their own below it.
func readmeChats(t *testing.T) []chatStep {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var steps []chatStep
	in, cont := false, false
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in:
			in = trimmed == "```chat"
			continue
		case trimmed == "```":
			in = false
			continue
		case trimmed == "":
			continue
		case trimmed == "# fresh demo org":
			steps = append(steps, chatStep{line: trimmed, fresh: true})
			continue
		case strings.HasPrefix(trimmed, "# clock:"):
			steps = append(steps, chatStep{line: trimmed, clock: strings.TrimSpace(strings.TrimPrefix(trimmed, "# clock:"))})
			continue
		case strings.HasPrefix(trimmed, "#"):
			continue
		}
		parts := arrows(trimmed)
		head, _, _ := strings.Cut(parts[0], " # ")
		head = strings.TrimSpace(head)
		switch m := chatLine.FindStringSubmatch(head); {
		case cont:
			s := &steps[len(steps)-1]
			s.line += "\n" + trimmed
			s.text += " " + strings.TrimSuffix(head, "\\")
			cont = strings.HasSuffix(head, "\\")
		case m != nil:
			s := chatStep{line: trimmed, user: m[1]}
			if tap, ok := strings.CutPrefix(m[2], "taps "); ok {
				s.tap = strings.TrimSpace(tap)
			} else {
				s.text = strings.TrimSpace(strings.TrimSuffix(m[2], "\\"))
				cont = strings.HasSuffix(m[2], "\\")
			}
			steps = append(steps, s)
		case head == "" && len(steps) > 0 && steps[len(steps)-1].user != "":
			steps[len(steps)-1].line += "\n" + trimmed
		default:
			t.Fatalf("README chat line is neither a step, a clock nor an expectation: %q", line)
		}
		for _, e := range parts[1:] {
			if e = strings.TrimSpace(e); e != "" {
				steps[len(steps)-1].expect = append(steps[len(steps)-1].expect, e)
			}
		}
	}
	return steps
}

// arrows splits a line at its "→"s; an expectation in double quotes
// ("→ \"未填 → 6m\"") is taken whole, arrows and all.
func arrows(line string) []string {
	head, rest, ok := strings.Cut(line, "→")
	parts := []string{head}
	for ok {
		rest = strings.TrimLeft(rest, " ")
		if quoted, after, closed := strings.Cut(strings.TrimPrefix(rest, `"`), `"`); strings.HasPrefix(rest, `"`) && closed {
			parts = append(parts, quoted)
			_, rest, ok = strings.Cut(after, "→")
			continue
		}
		var part string
		part, rest, ok = strings.Cut(rest, "→")
		parts = append(parts, part)
	}
	return parts
}

// quietWeek is the first Monday from now on whose week and the next are
// plain working weeks (Monday to Friday working days, no make-up days), so
// the examples' "下周三" is an ordinary Wednesday whenever the test runs.
func quietWeek(loc *time.Location) time.Time {
	cal := calendar.New(loc, nil)
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	day = day.AddDate(0, 0, (8-int(day.Weekday()))%7)
	for ; ; day = day.AddDate(0, 0, 7) {
		plain := true
		for i := 0; i < 14; i++ {
			d := day.AddDate(0, 0, i)
			if cal.IsWorkday(d) != (d.Weekday() != time.Saturday && d.Weekday() != time.Sunday) {
				plain = false
			}
		}
		if plain {
			return day
		}
	}
}

// TestREADMEChatExamples runs README's worked examples (its ```chat
// blocks) as written, in order, through the webchat API against the demo
// org, on a clock that starts on a Monday 09:00 of a plain working week:
// every line's reply, and every inbox it names, shows what the README
// says it shows.
func TestREADMEChatExamples(t *testing.T) {
	steps := readmeChats(t)
	require.NotEmpty(t, steps, "README has no ```chat blocks")
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	start := quietWeek(loc).Add(9 * time.Hour)
	clock := &testClock{now: start}
	a := startAppWith(t, clock)
	for _, s := range steps {
		if s.fresh {
			a.stop()
			clock.Set(start)
			a = startAppWith(t, clock)
			continue
		}
		if s.clock != "" {
			at, timed, err := bot.ParseWhen(s.clock, clock.Now(), loc)
			require.NoError(t, err, s.line)
			require.True(t, timed, "%s: give the clock a time of day", s.line)
			clock.Set(at)
			continue
		}
		var r wmsg
		if s.tap != "" {
			r = a.tap(s.user, s.tap)
		} else {
			r = a.say(s.user, s.text)
		}
		t.Logf("%s\n  ⇒ [%s] %s", s.line, r.Status, r.all())
		status := "ok"
		for _, e := range s.expect {
			to, want, ok := strings.Cut(e, ":")
			user, isTo := strings.CutPrefix(to, "to ")
			if channel, isIn := strings.CutPrefix(to, "in "); isIn {
				user, isTo = channel, true
			}
			switch {
			case ok && to == "refused":
				status = "error"
				require.Contains(t, r.all(), strings.TrimSpace(want), "README: %s", s.line)
			case ok && to == "not":
				require.NotContains(t, r.all(), strings.TrimSpace(want), "README: %s", s.line)
			case ok && isTo:
				a.waitMessage(strings.TrimSpace(user), strings.TrimSpace(want), s.line)
			default:
				require.Contains(t, r.all(), e, "README: %s", s.line)
			}
		}
		require.Equal(t, status, r.Status, "README: %s\n%s", s.line, r.all())
	}
}

// tap waits for the newest card in user's inbox with a button labelled
// label ("同意", or "同意 on #5": on request 5's card) and presses it.
func (a *app) tap(user, label string) wmsg {
	a.t.Helper()
	label, id, _ := strings.Cut(label, " on #")
	var card wmsg
	var button struct{ Action, Value, Label, Style, Confirm string }
	require.Eventuallyf(a.t, func() bool {
		found := false
		for _, m := range a.inbox(user) {
			if id != "" && !strings.HasPrefix(m.Ref, "request:"+id+"#") {
				continue
			}
			for _, b := range m.Buttons {
				if b.Label == label && m.To["user"] == user {
					card, button, found = m, b, true
				}
			}
		}
		return found
	}, 15*time.Second, 100*time.Millisecond, "no button %q for %s", label, user)
	return a.click(user, card.ID, button.Action, button.Value)
}

// waitMessage waits until the inbox of user (or, for "#name", the
// channel name) holds a message containing text (in its title, text,
// fields or button labels).
func (a *app) waitMessage(user, text, line string) {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var seen []string
		for _, m := range a.messages(user) {
			s := m.all()
			for _, b := range m.Buttons {
				s += "\n[" + b.Label + "]"
			}
			if strings.Contains(s, text) {
				return
			}
			seen = append(seen, s)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("README: %s\nno message for %s containing %q; there are:\n%s", line, user, text, strings.Join(seen, "\n---\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// messages is user's inbox, or for "#name" the channel's messages.
func (a *app) messages(user string) []wmsg {
	a.t.Helper()
	name, ok := strings.CutPrefix(user, "#")
	if !ok {
		return a.inbox(user)
	}
	code, body := a.call("GET", "/webchat/api/channel?name="+url.QueryEscape(name)+"&after=0", nil)
	require.Equal(a.t, 200, code, string(body))
	var out struct{ Messages []wmsg }
	require.NoError(a.t, json.Unmarshal(body, &out))
	return out.Messages
}
