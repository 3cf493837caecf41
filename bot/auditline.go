package bot

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// An audit entry shown to people is a sentence: who did what to which
// entity, and what changed (from the entry's before and after JSON):
// "孙丽 指派事件 #7（负责人：孙丽 → 周杰）". Each action has a template
// audit.act.<action> taking {entity}; the request verbs share
// audit.act.request with the verb's word (verb.<verb>). Known fields have
// words (audit.field.<name>) and known values the words the bot already
// uses (states, levels, roles, kinds); other fields are left out, except
// id-like ones, shown as they are.

// maxAuditDetails is the most changed fields one sentence lists.
const maxAuditDetails = 4

// auditNoise are fields that change with every write and say nothing.
var auditNoise = map[string]bool{"updated_at": true, "last_update_at": true, "step_since": true, "version": true, "created_at": true}

// auditFirst are the fields a sentence lists first, in this order; the
// others follow by name.
var auditFirst = []string{"title", "name", "state", "level", "owner", "assignee", "role", "scope", "window", "reason", "note"}

// AuditSentence renders e in lang as a sentence (times in loc), without
// its time: who, what, which entity, and what changed; people shown by
// person (nil shows ids).
func AuditSentence(lang string, loc *time.Location, e core.AuditEntry, person func(id string) string) string {
	entity := auditEntity(lang, e.Entity)
	var what string
	keys := auditKeys(e.Action)
	if _, ok := catalogs[LangZH][keys[0]]; !ok {
		what = T(lang, "audit.act.other", "action", e.Action, "entity", entity)
	} else if len(keys) == 2 {
		what = T(lang, keys[0], "entity", entity, "verb", T(lang, keys[1]))
	} else {
		what = T(lang, keys[0], "entity", entity)
	}
	s := AuditActor(lang, e.Actor, person) + " " + what
	if d := auditDetails(lang, loc, e.Entity, e.Before, e.After, person); d != "" {
		s += T(lang, "audit.details", "list", d)
	}
	return s
}

// AuditActor is how an audit sentence names a user: the system by its
// word, everyone else by person (the names helper, Bot.Person; nil shows
// the id).
func AuditActor(lang, user string, person func(id string) string) string {
	if user == core.SystemUser || user == "" {
		return T(lang, "audit.actor.system")
	}
	if person == nil {
		return user
	}
	return person(user)
}

// auditKeys are the catalog keys an audit action's sentence needs: its
// template, and for a request's decision the verb's word.
func auditKeys(action string) []string {
	key := "audit.act." + action
	if _, ok := zh[key]; ok {
		return []string{key}
	}
	if verb, ok := strings.CutPrefix(action, "request."); ok {
		return []string{"audit.act.request", "verb." + verb}
	}
	return []string{key}
}

// auditEntity names an entity ref ("incident:7" → "事件 #7"); a kind
// without a word shows the ref as it is.
func auditEntity(lang, ref string) string {
	kind, id, ok := strings.Cut(ref, ":")
	key := "audit.entity." + kind
	if _, known := zh[key]; !ok || !known {
		return ref
	}
	return T(lang, key, "id", id)
}

// auditDetails lists what changed on entity from before to after (both
// JSON, "" when absent); a created or removed entity lists its own fields
// but the id its name already shows.
func auditDetails(lang string, loc *time.Location, entity, before, after string, person func(string) string) string {
	kind, id, _ := strings.Cut(entity, ":")
	b, a := auditObject(before), auditObject(after)
	if a == nil && b == nil {
		return ""
	}
	names := map[string]bool{}
	for k := range b {
		names[k] = true
	}
	for k := range a {
		names[k] = true
	}
	// A diff needs the two to share a field: an after that only says why
	// (a revoked grant's reason) lists both sides' fields instead.
	shared := false
	for k := range a {
		if _, ok := b[k]; ok {
			shared = true
		}
	}
	var parts []string
	more := 0
	for _, k := range auditOrder(names) {
		if auditNoise[k] && shared {
			continue
		}
		ov, inB := b[k]
		nv, inA := a[k]
		if inB && inA && string(ov) == string(nv) {
			continue
		}
		if (a == nil || b == nil) && (string(ov) == strconv.Quote(id) || string(nv) == strconv.Quote(id)) {
			continue
		}
		field, ok := auditField(lang, k)
		if !ok {
			more++
			continue
		}
		if len(parts) == maxAuditDetails {
			more++
			continue
		}
		switch {
		case shared && inB && inA:
			parts = append(parts, T(lang, "audit.change", "field", field, "from", auditValue(lang, loc, kind, k, ov, person), "to", auditValue(lang, loc, kind, k, nv, person)))
		case shared && inA:
			parts = append(parts, T(lang, "audit.change", "field", field, "from", T(lang, "audit.none"), "to", auditValue(lang, loc, kind, k, nv, person)))
		case shared && inB:
			parts = append(parts, T(lang, "audit.change", "field", field, "from", auditValue(lang, loc, kind, k, ov, person), "to", T(lang, "audit.none")))
		case inA:
			parts = append(parts, T(lang, "audit.set", "field", field, "value", auditValue(lang, loc, kind, k, nv, person)))
		default:
			parts = append(parts, T(lang, "audit.set", "field", field, "value", auditValue(lang, loc, kind, k, ov, person)))
		}
	}
	if more > 0 && len(parts) > 0 {
		parts = append(parts, T(lang, "audit.more", "n", strconv.Itoa(more)))
	}
	return strings.Join(parts, T(lang, "audit.sep"))
}

// auditObject decodes an entry's JSON object (nil when absent or not an
// object, as for a bare value).
func auditObject(s string) map[string]json.RawMessage {
	if s == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// auditOrder sorts field names: auditFirst's, then the others by name.
func auditOrder(names map[string]bool) []string {
	var out []string
	for _, k := range auditFirst {
		if names[k] {
			out = append(out, k)
			delete(names, k)
		}
	}
	rest := make([]string, 0, len(names))
	for k := range names {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// auditField is a field's word, or an id-like field's own name (ok false:
// a field left out).
func auditField(lang, name string) (string, bool) {
	key := "audit.field." + name
	if _, ok := zh[key]; ok {
		return T(lang, key), true
	}
	if auditIDLike(name) {
		return name, true
	}
	return "", false
}

// auditIDLike tells a field holding an id or code, shown by its name.
func auditIDLike(name string) bool {
	return name == "id" || name == "ref" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ref") || strings.HasSuffix(name, "_code")
}

// auditPeople are the fields that hold a user id, shown through
// AuditActor like the entry's actor.
var auditPeople = map[string]bool{"owner": true, "assignee": true, "assignees": true, "user": true, "requester": true, "asker": true,
	"declared_by": true, "granted_by": true, "revoked_by": true, "signed_by": true, "issued_by": true, "lifted_by": true, "duty": true,
	"stakeholders": true, "member": true, "members": true}

// auditStates are the catalog prefixes of states by entity kind.
var auditStates = map[string]string{"incident": "istate.", "problem": "pstate.", "ticket": "tstate.", "request": "state."}

// auditValue shows one JSON value: words for known states, levels, roles
// and kinds, times in loc, lists joined, nested objects counted.
func auditValue(lang string, loc *time.Location, kind, field string, raw json.RawMessage, person func(string) string) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case nil:
		return T(lang, "audit.none")
	case bool:
		if x {
			return T(lang, "audit.yes")
		}
		return T(lang, "audit.no")
	case float64:
		n := strconv.FormatFloat(x, 'f', -1, 64)
		if field == "level" && kind == "incident" {
			return knownIn(lang, n, "level.n")
		}
		return n
	case string:
		if x == "" {
			return T(lang, "audit.none")
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			if loc == nil {
				loc = time.UTC
			}
			return t.In(loc).Format("2006-01-02 15:04")
		}
		if auditPeople[field] {
			return AuditActor(lang, x, person)
		}
		switch field {
		case "state", "decided_state":
			if p, ok := auditStates[kind]; ok {
				return knownIn(lang, x, p)
			}
		case "level":
			return knownIn(lang, x, "level.")
		case "role":
			return knownIn(lang, x, "role.")
		case "kind":
			return knownIn(lang, x, "kind.")
		case "platform":
			return knownIn(lang, x, "platform.")
		case "language":
			return knownIn(lang, x, "lang.name.")
		}
		return x
	case []any:
		items := make([]string, 0, len(x))
		for _, it := range x {
			b, _ := json.Marshal(it)
			if _, nested := it.(map[string]any); nested {
				return T(lang, "audit.items", "n", strconv.Itoa(len(x)))
			}
			items = append(items, auditValue(lang, loc, kind, field, b, person))
		}
		if len(items) == 0 {
			return T(lang, "audit.none")
		}
		return strings.Join(items, T(lang, "audit.list_sep"))
	case map[string]any:
		if len(x) == 0 {
			return T(lang, "audit.none")
		}
		return T(lang, "audit.items", "n", strconv.Itoa(len(x)))
	}
	return string(raw)
}
