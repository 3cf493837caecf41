package alerts

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
)

// unmarshal decodes a webhook body into p as json.Unmarshal does. Bodies
// as Alertmanager writes them — its known fields only, each once, spelt
// as its tags are, strings with the escapes Go's encoder writes — go
// through a scanner written for the payload (scan), without reflection or
// a validating pass of their own; anything else it gives up on (an
// unknown field, a key in another case, a null, a duplicate field, a
// number other than a small integer, a surrogate escape, bad syntax) and
// encoding/json decodes the body instead, so what is accepted, refused
// and the error said are encoding/json's. TestScanAgreesWithEncodingJSON
// holds the two to the same answers.
func unmarshal(body []byte, p *payload) error {
	if scan(body, p) {
		return nil
	}
	*p = payload{}
	return json.Unmarshal(body, p)
}

// scan decodes body into p when it can answer exactly as encoding/json
// would (see unmarshal); false when it gave up (p is then undefined).
func scan(body []byte, p *payload) bool {
	s := scanner{b: body}
	if !s.payload(p) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// scanner reads a JSON text from b at i.
type scanner struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte_ consumes c (after whitespace).
func (s *scanner) byte_(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek is the next byte after whitespace (0 at the end).
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object reads an object's members, calling field with each key (its raw
// bytes, unescaped keys give up) positioned at its value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.byte_('{') {
		return false
	}
	if s.byte_('}') {
		return true
	}
	for {
		key, ok := s.rawKey()
		if !ok || !s.byte_(':') || !field(key) {
			return false
		}
		if s.byte_(',') {
			continue
		}
		return s.byte_('}')
	}
}

// rawKey reads a key without escapes and returns its bytes.
func (s *scanner) rawKey() ([]byte, bool) {
	if !s.byte_('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			s.i += n
		}
	}
	return nil, false
}

// str reads a string, unescaping what Go's encoder escapes.
func (s *scanner) str() (string, bool) {
	if !s.byte_('"') {
		return "", false
	}
	start := s.i
	// The common case: no escape, valid UTF-8 — one copy.
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(s.b[start : s.i-1]), true
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return "", false // encoding/json replaces it: leave it to it
			}
			s.i += n
		}
	}
	return "", false
}

// escaped finishes a string begun at start that holds an escape at i.
func (s *scanner) escaped(start int) (string, bool) {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", false
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				if s.i+4 > len(s.b) {
					return "", false
				}
				v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
				if err != nil || utf16.IsSurrogate(rune(v)) {
					return "", false // pairs and lone halves: encoding/json's rules
				}
				s.i += 4
				out = utf8.AppendRune(out, rune(v))
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			out = append(out, c)
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return "", false
			}
			out = append(out, s.b[s.i:s.i+n]...)
			s.i += n
		}
	}
	return "", false
}

// kv reads an object of strings (labels, annotations); a key given twice
// keeps its last value, as in encoding/json.
func (s *scanner) kv(m *template.KV) bool {
	if s.peek() != '{' {
		return false
	}
	out := template.KV{}
	ok := s.object(func(key []byte) bool {
		// A key with escapes or in question gave up in rawKey.
		v, ok := s.str()
		out[string(key)] = v
		return ok
	})
	*m = out
	return ok
}

// when reads a time as time.Time's UnmarshalJSON does (RFC 3339).
func (s *scanner) when(t *time.Time) bool {
	if s.peek() != '"' {
		return false
	}
	start := s.i
	for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' || s.b[s.i] < 0x20 || s.b[s.i] >= utf8.RuneSelf {
			return false
		}
	}
	if s.i >= len(s.b) {
		return false
	}
	s.i++
	return t.UnmarshalJSON(s.b[start:s.i]) == nil
}

// small reads a non-negative integer of at most nine digits.
func (s *scanner) small(n *int) bool {
	s.space()
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	d := s.b[start:s.i]
	if len(d) == 0 || len(d) > 9 || len(d) > 1 && d[0] == '0' {
		return false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	v, err := strconv.Atoi(string(d))
	*n = v
	return err == nil
}

// once marks field bit in seen; false when it was seen before (a field
// given twice: encoding/json merges into what the first left).
func once(seen *uint16, bit uint16) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// text reads a string field into dst, marking bit in seen (once).
func (s *scanner) text(seen *uint16, bit uint16, dst *string) bool {
	v, ok := s.str()
	*dst = v
	return once(seen, bit) && ok
}

// payload reads the webhook's object.
func (s *scanner) payload(p *payload) bool {
	var seen uint16
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "version":
			return s.text(&seen, 1<<0, &p.Version)
		case "groupKey":
			return s.text(&seen, 1<<1, &p.GroupKey)
		case "truncatedAlerts":
			return once(&seen, 1<<2) && s.small(&p.TruncatedAlerts)
		case "receiver":
			return s.text(&seen, 1<<3, &p.Receiver)
		case "status":
			return s.text(&seen, 1<<4, &p.Status)
		case "alerts":
			return once(&seen, 1<<5) && s.alerts(&p.Alerts)
		case "groupLabels":
			return once(&seen, 1<<6) && s.kv(&p.GroupLabels)
		case "commonLabels":
			return once(&seen, 1<<7) && s.kv(&p.CommonLabels)
		case "commonAnnotations":
			return once(&seen, 1<<8) && s.kv(&p.CommonAnnotations)
		case "externalURL":
			return s.text(&seen, 1<<9, &p.ExternalURL)
		}
		return false
	})
}

// alerts reads the alerts' array.
func (s *scanner) alerts(as *template.Alerts) bool {
	if !s.byte_('[') {
		return false
	}
	out := make(template.Alerts, 0, 4)
	if s.byte_(']') {
		*as = out
		return true
	}
	for {
		var a template.Alert
		if !s.alert(&a) {
			return false
		}
		out = append(out, a)
		if s.byte_(',') {
			continue
		}
		*as = out
		return s.byte_(']')
	}
}

// alert reads one alert's object.
func (s *scanner) alert(a *template.Alert) bool {
	var seen uint16
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "status":
			return s.text(&seen, 1<<0, &a.Status)
		case "labels":
			return once(&seen, 1<<1) && s.kv(&a.Labels)
		case "annotations":
			return once(&seen, 1<<2) && s.kv(&a.Annotations)
		case "startsAt":
			return once(&seen, 1<<3) && s.when(&a.StartsAt)
		case "endsAt":
			return once(&seen, 1<<4) && s.when(&a.EndsAt)
		case "generatorURL":
			return s.text(&seen, 1<<5, &a.GeneratorURL)
		case "fingerprint":
			return s.text(&seen, 1<<6, &a.Fingerprint)
		}
		return false
	})
}
