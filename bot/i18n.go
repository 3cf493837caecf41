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
	zh = merged(zhGeneral, zhOrg, zhApproval, zhIncident, zhTicket, zhInspect, zhBackup, zhEmergency, zhDigest, zhCalendar, zhDelivery, zhAudit, zhAPI, zhToken,
		zhConsole, zhConsoleDuty, zhConsoleReports, zhConsoleTrends, zhConsolePages)
	en = merged(enGeneral, enOrg, enApproval, enIncident, enTicket, enInspect, enBackup, enEmergency, enDigest, enCalendar, enDelivery, enAudit, enAPI, enToken,
		enConsole, enConsoleDuty, enConsoleReports, enConsoleTrends, enConsolePages)
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
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
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
