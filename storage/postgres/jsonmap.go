package postgres

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// appendJSONObject appends m as a JSON object, keys sorted, as
// encoding/json writes it save for HTML escaping (< > & stay as they are:
// the text goes to jsonb, not to a page): the labels and annotations of
// every alert written pass here, without reflection. Invalid UTF-8
// becomes U+FFFD, as encoding/json makes it.
func appendJSONObject(dst []byte, m map[string]string) []byte {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for n, k := range keys {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, k), ':')
		dst = appendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(append(dst, s[start:i]...), "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// parseJSONObject decodes a labels column (a flat JSON object of strings)
// as json.Unmarshal decodes it into a map of strings, value and error
// alike: without reflection when no string holds an escape or a byte
// that is not valid UTF-8 (jsonb prints labels so), else through
// json.Unmarshal.
func parseJSONObject(b []byte) (map[string]string, error) {
	if m, ok := flatObject(b); ok {
		return m, nil
	}
	var m map[string]string
	return m, json.Unmarshal(b, &m)
}

// flatObject is parseJSONObject's fast path; ok is false for anything it
// leaves to json.Unmarshal.
func flatObject(b []byte) (m map[string]string, ok bool) {
	i := skipJSONSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, false
	}
	m = make(map[string]string, bytes.Count(b, []byte{':'}))
	if i = skipJSONSpace(b, i+1); i < len(b) && b[i] == '}' {
		return m, skipJSONSpace(b, i+1) == len(b)
	}
	for {
		k, j, ok := plainJSONString(b, i)
		if !ok {
			return nil, false
		}
		if i = skipJSONSpace(b, j); i == len(b) || b[i] != ':' {
			return nil, false
		}
		v, j, ok := plainJSONString(b, skipJSONSpace(b, i+1))
		if !ok {
			return nil, false
		}
		m[k] = v
		if i = skipJSONSpace(b, j); i == len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return m, skipJSONSpace(b, i+1) == len(b)
		case ',':
			i = skipJSONSpace(b, i+1)
		default:
			return nil, false
		}
	}
}

// plainJSONString reads the JSON string at b[i] that holds no escape, no
// control character and only valid UTF-8, and returns it and the index
// after it; ok is false for any other.
func plainJSONString(b []byte, i int) (s string, next int, ok bool) {
	if i == len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if !utf8.Valid(b[i+1 : j]) {
				return "", j, false
			}
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20:
			return "", j, false
		}
	}
	return "", len(b), false
}

// skipJSONSpace is the index of the first byte from i on that is not JSON
// white space.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
