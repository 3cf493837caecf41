package bot

import (
	"sort"
	"strings"
)

// Languages the bot speaks.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// catalog holds the texts of one language by key; {name} is replaced by
// the argument of that name.
type catalog map[string]string

// zh and en join the domains' catalogs (catalog_<domain>.go).
var (
	zh = merged(zhGeneral, zhOrg, zhApproval, zhIncident, zhTicket, zhInspect, zhBackup, zhEmergency, zhDigest, zhMonthly, zhCalendar, zhDelivery, zhAudit, zhAPI, zhToken,
		zhConsole, zhConsoleDuty, zhConsoleReports, zhConsoleTrends, zhConsolePages, zhProblem, zhInput, zhPaging)
	en = merged(enGeneral, enOrg, enApproval, enIncident, enTicket, enInspect, enBackup, enEmergency, enDigest, enMonthly, enCalendar, enDelivery, enAudit, enAPI, enToken,
		enConsole, enConsoleDuty, enConsoleReports, enConsoleTrends, enConsolePages, enProblem, enInput, enPaging)
)

var catalogs = map[string]catalog{LangZH: zh, LangEN: en}

// merged joins catalogs; a key defined twice keeps its first text and is
// reported by TestCatalogsMatch.
func merged(cs ...catalog) catalog {
	out := catalog{}
	for _, c := range cs {
		for k, v := range c {
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
	}
	return out
}

// T translates key in lang with named arguments (alternating name, value).
func T(lang, key string, kv ...string) string {
	c, ok := catalogs[lang]
	if !ok {
		c = zh
	}
	s, ok := c[key]
	if !ok {
		if s, ok = en[key]; !ok {
			s = key
		}
	}
	if len(kv) == 0 {
		return s
	}
	return fillArgs(s, kv)
}

// fillArgs replaces each {name} in s by its value in kv (alternating name,
// value) in one pass, as strings.Replacer would, without building one
// per call (a console page translates per row).
func fillArgs(s string, kv []string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		matched := false
		for j := 0; j+1 < len(kv); j += 2 {
			if k := kv[j]; len(s) > len(k)+1 && s[1:1+len(k)] == k && s[1+len(k)] == '}' {
				b.WriteString(kv[j+1])
				s = s[len(k)+2:]
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte('{')
			s = s[1:]
		}
	}
}

// tmap translates with the arguments of a map.
func tmap(lang, key string, args map[string]string) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]string, 0, 2*len(args))
	for _, k := range keys {
		kv = append(kv, k, args[k])
	}
	return T(lang, key, kv...)
}
