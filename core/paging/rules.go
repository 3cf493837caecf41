package paging

import (
	"fmt"
	"strings"
	"time"
)

// Rule is one step of a person's notification chain: page by Method
// when the incident is still unacknowledged After its page started.
type Rule struct {
	After  time.Duration
	Method Method
}

// DefaultRules are the notification rules per level when the config
// gives none: level Ⅰ/Ⅱ chat at once, SMS after 2 minutes
// unacknowledged, a voice call after 5; level Ⅲ/Ⅳ chat only.
func DefaultRules() map[int][]Rule {
	serious := []Rule{{0, MethodChat}, {2 * time.Minute, MethodSMS}, {5 * time.Minute, MethodVoice}}
	return map[int][]Rule{1: serious, 2: serious, 3: {{0, MethodChat}}, 4: {{0, MethodChat}}}
}

// ParseRules parses one level's chain, e.g. "chat; 2m sms; 5m voice":
// steps separated by ";", each an optional delay and a method. The
// first step has no delay and delays must grow.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	last := time.Duration(-1)
	for _, part := range strings.Split(s, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		var r Rule
		if d, err := time.ParseDuration(fields[0]); err == nil {
			r.After, fields = d, fields[1:]
		}
		if len(fields) != 1 || !validMethod(Method(fields[0])) {
			return nil, fmt.Errorf("step %q: want [delay] chat|sms|voice|email|webhook", strings.TrimSpace(part))
		}
		r.Method = Method(fields[0])
		if r.After <= last {
			return nil, fmt.Errorf("step %q: delays must grow", strings.TrimSpace(part))
		}
		last = r.After
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no steps")
	}
	if out[0].After != 0 {
		return nil, fmt.Errorf("the first step is at once: give it no delay")
	}
	return out, nil
}

// FormatRules is the inverse of ParseRules.
func FormatRules(rules []Rule) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = string(r.Method)
		if r.After > 0 {
			parts[i] = r.After.String() + " " + parts[i]
		}
	}
	return strings.Join(parts, "; ")
}

func validMethod(m Method) bool {
	switch m {
	case MethodChat, MethodSMS, MethodVoice, MethodEmail, MethodWebhook:
		return true
	}
	return false
}

// Quiet is a daily window ("22:00-07:00") in which level Ⅲ/Ⅳ pages
// beyond chat wait; level Ⅰ/Ⅱ ignore it.
type Quiet struct{ From, To int } // minutes after midnight

// ParseQuiet reads "HH:MM-HH:MM" (quiet_hours when malformed).
func ParseQuiet(s string) (Quiet, error) {
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 || (h1 == h2 && m1 == m2) {
		return Quiet{}, invalidQuiet(s)
	}
	return Quiet{From: h1*60 + m1, To: h2*60 + m2}, nil
}

// String is the window as "HH:MM-HH:MM".
func (q Quiet) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.From/60, q.From%60, q.To/60, q.To%60)
}

// Holds reports whether t (in its own zone) falls in the window.
func (q Quiet) Holds(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if q.From < q.To {
		return m >= q.From && m < q.To
	}
	return m >= q.From || m < q.To
}
