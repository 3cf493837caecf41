// Package phone normalises the mobile numbers people type (11-digit
// mainland numbers, +86…, 0086…, with spaces or dashes) into the forms the
// SMS and voice providers want.
package phone

import (
	"errors"
	"strings"
)

// ErrInvalid is returned for an address that is not a mobile number.
var ErrInvalid = errors.New("phone: not a mobile number")

// Parse splits a mobile number into its country code and national number
// (digits only). A number without a country code is taken as mainland
// China's (86).
func Parse(s string) (cc, national string, err error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '\u3000':
			return -1
		case '＋':
			return '+'
		}
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		return r
	}, s)
	intl := false
	switch {
	case strings.HasPrefix(s, "+"):
		s, intl = s[1:], true
	case strings.HasPrefix(s, "00"):
		s, intl = s[2:], true
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return "", "", ErrInvalid
	}
	if !intl || strings.HasPrefix(s, "86") {
		if intl {
			s = s[2:]
		}
		if len(s) != 11 || s[0] != '1' {
			return "", "", ErrInvalid
		}
		return "86", s, nil
	}
	// Other countries: a country code of 1–3 digits cannot be told apart
	// without a table, so keep the whole digit string as "national" with
	// an empty country code; the callers then send it in E.164 form.
	if len(s) < 7 || len(s) > 15 {
		return "", "", ErrInvalid
	}
	return "", s, nil
}

// E164 returns the number as +<country code><number>.
func E164(s string) (string, error) {
	cc, n, err := Parse(s)
	if err != nil {
		return "", err
	}
	return "+" + cc + n, nil
}

// Domestic returns a mainland number as its 11 digits and any other as
// its country code and number without "+" (Aliyun's form).
func Domestic(s string) (string, error) {
	cc, n, err := Parse(s)
	if err != nil {
		return "", err
	}
	if cc == "86" {
		return n, nil
	}
	return cc + n, nil
}
