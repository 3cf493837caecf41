package bot

import (
	"context"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"

	"opsbot/core"
	"opsbot/core/org"
)

// suggestError is an error with the "did you mean …" choices that go
// after its reply (ErrorReply).
type suggestError struct {
	err     error
	choices []string
}

func (e *suggestError) Error() string { return e.err.Error() }
func (e *suggestError) Unwrap() error { return e.err }

// distance is the edit distance between a and b, by runes, ignoring case.
func distance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// near reports whether a typed word is close enough to a known one to be
// suggested: one edit for short words, a third of the length for longer.
func near(typed string, d int) bool {
	return d > 0 && d <= max(1, utf8.RuneCountInString(typed)/3)
}

// candidate is one suggestion with its distance from what was typed.
type candidate struct {
	text string
	d    int
}

// best returns the texts of the closest candidates (at most three), each once.
func best(cs []candidate) []string {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		if !seen[c.text] && len(out) < 3 {
			seen[c.text] = true
			out = append(out, c.text)
		}
	}
	return out
}

// wordDistance is how far a typed word is from a command word, also
// counting each of its Chinese aliases.
func wordDistance(typed, word string, zh map[string][]string) int {
	d := distance(canonicalWord(typed), word)
	for _, a := range zh[word] {
		d = min(d, distance(typed, a))
	}
	return d
}

// suggestCommands returns the command paths closest to the typed words.
func (rt *Router) suggestCommands(tokens []string) []string {
	zh := map[string][]string{}
	for a, w := range aliases {
		zh[w] = append(zh[w], a)
	}
	var cs []candidate
	for p := range rt.cmds {
		words := strings.Fields(p)
		if len(words) > len(tokens) {
			continue
		}
		d, typed := 0, ""
		for i, w := range words {
			d += wordDistance(tokens[i], w, zh)
			typed += tokens[i]
		}
		if near(typed, d) {
			cs = append(cs, candidate{"/" + p, d*10 - len(words)})
		}
	}
	return best(cs)
}

// suggestFor adds "did you mean …" choices to a unit_not_found or
// user_not_found error from the org's unit codes and names or user ids
// and names; other errors come back as they are.
func (b *Bot) suggestFor(ctx context.Context, actor core.Actor, err error) error {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return err
	}
	var choices []string
	switch ce.Code {
	case "user_not_found":
		dir, derr := b.activeUsers(ctx)
		if derr != nil {
			return err
		}
		choices = suggestUsers(dir, ce.Args["id"], b.cfg.Language)
	case "unit_not_found":
		nodes, terr := b.org.Tree(ctx, actor, "")
		if terr != nil {
			return err
		}
		typed := ce.Args["code"]
		var cs []candidate
		for _, n := range nodes {
			d := min(distance(typed, n.Unit.Code), distance(typed, n.Unit.Name))
			if near(typed, d) {
				cs = append(cs, candidate{named(b.cfg.Language, n.Unit.Name, n.Unit.Code), d})
			}
		}
		choices = best(cs)
	}
	if len(choices) == 0 {
		return err
	}
	return &suggestError{err: err, choices: choices}
}

// suggestUsers returns the users whose id or name is closest to typed.
func suggestUsers(dir []org.Profile, typed, lang string) []string {
	var cs []candidate
	for _, p := range dir {
		d := min(distance(typed, p.User.ID), distance(typed, p.User.Name))
		if near(typed, d) {
			cs = append(cs, candidate{named(lang, p.User.Name, p.User.ID), d})
		}
	}
	return best(cs)
}

// activeUsers lists the org's active people (no service users).
func (b *Bot) activeUsers(ctx context.Context) ([]org.Profile, error) {
	all, err := b.org.Directory(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if !p.User.Service && !p.User.Removed {
			out = append(out, p)
		}
	}
	return out, nil
}

// resolveUsers replaces each display name given where the command takes
// a user (Command.Users, Command.UserFlags) by that user's id: a value
// that is already an id stays; a name of exactly one active user becomes
// their id; a name of several is refused with the choices (user_ambiguous);
// anything else goes on as typed, for the core to refuse (and suggestFor
// to suggest).
func (b *Bot) resolveUsers(ctx context.Context, cmd *Command, args []string, flags map[string]string) error {
	if !namesUsers(cmd, args, flags) {
		return nil
	}
	dir, err := b.activeUsers(ctx)
	if err != nil {
		return err
	}
	return applyNames(cmd, args, flags, func(v string) (string, error) { return resolveName(dir, v, b.cfg.Language) })
}

// namesUsers reports whether the command line gives any user argument or
// user flag.
func namesUsers(cmd *Command, args []string, flags map[string]string) bool {
	for _, i := range cmd.Users {
		if i < len(args) {
			return true
		}
	}
	for _, f := range cmd.UserFlags {
		if _, ok := flags[f]; ok {
			return true
		}
	}
	return false
}

// applyNames replaces, in place, each user argument and each item of a
// user flag by what resolve makes of it. A list flag is rewritten (joined
// by ",") only when an item changed.
func applyNames(cmd *Command, args []string, flags map[string]string, resolve func(string) (string, error)) error {
	var err error
	for _, i := range cmd.Users {
		if i >= len(args) {
			continue
		}
		if args[i], err = resolve(args[i]); err != nil {
			return err
		}
	}
	for _, f := range cmd.UserFlags {
		v, ok := flags[f]
		if !ok {
			continue
		}
		parts, changed := splitList(v), false
		for i, item := range parts {
			id, err := resolve(strings.TrimSpace(item))
			if err != nil {
				return err
			}
			changed = changed || id != item
			parts[i] = id
		}
		if changed {
			flags[f] = strings.Join(parts, ",")
		}
	}
	return nil
}

// resolveName returns the id of the one user in dir with id or display
// name v; v itself when there is none; user_ambiguous with the choices
// (name（id，unit）) when several share the name.
func resolveName(dir []org.Profile, v, lang string) (string, error) {
	var same []org.Profile
	for _, p := range dir {
		if p.User.ID == v {
			return v, nil
		}
		if p.User.Name == v {
			same = append(same, p)
		}
	}
	switch len(same) {
	case 0:
		return v, nil
	case 1:
		return same[0].User.ID, nil
	}
	choices := make([]string, len(same))
	for i, p := range same {
		choices[i] = named(lang, p.User.Name, p.User.ID, p.Unit.Name)
	}
	return "", core.Invalid("user_ambiguous", "name", v, "choices", strings.Join(choices, T(lang, "list.sep")))
}

// named shows a name with what identifies it: 孙丽（sunli，运维中心） in
// Chinese, 孙丽 (sunli, 运维中心) in English.
func named(lang, name string, ids ...string) string {
	if lang == LangEN {
		return name + " (" + strings.Join(ids, ", ") + ")"
	}
	return name + "（" + strings.Join(ids, "，") + "）"
}
