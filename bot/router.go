package bot

import (
	"context"
	"sort"
	"strings"

	"opsbot/core"
)

// Request is a parsed command with its actor.
type Request struct {
	Actor   core.Actor
	Event   Event
	Command *Command
	Args    []string
	Flags   map[string]string
}

// Flag returns a flag's value ("" when absent).
func (r *Request) Flag(name string) string { return r.Flags[name] }

// Has reports whether a flag was given.
func (r *Request) Has(name string) bool { _, ok := r.Flags[name]; return ok }

// Command is one registered command.
type Command struct {
	Path     string          // words, e.g. "org unit add"
	Usage    string          // after the path, e.g. "<code> <name> --parent <code> --level district|unit|department"
	MinArgs  int             // positional arguments required
	MaxArgs  int             // at most this many; -1 joins the rest into the last
	Flags    map[string]bool // allowed flags; true when the flag takes a value
	Required []string        // flags that must be given
	Topic    string          // help topic, e.g. "org"
	// Users are the positional arguments (by index) and UserFlags the
	// flags (a list flag by each of its items) that name a user: a display
	// name given there becomes the user's id (Bot.resolveUsers).
	Users     []int
	UserFlags []string
	Run       func(ctx context.Context, r *Request) ([]Message, error)
}

// textFlags take free text: every word up to the next flag.
var textFlags = map[string]bool{"note": true, "notes": true, "reason": true, "result": true, "plan": true, "rollback": true,
	"cause": true, "actions": true, "findings": true}

// Router finds commands by their leading words.
type Router struct {
	cmds map[string]*Command
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{cmds: map[string]*Command{}} }

// Handle registers a command.
func (rt *Router) Handle(c *Command) { rt.cmds[c.Path] = c }

// Commands returns the registered commands sorted by path.
func (rt *Router) Commands() []*Command {
	out := make([]*Command, 0, len(rt.cmds))
	for _, c := range rt.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// usageError is a malformed command: code says what, cmd how to use it.
type usageError struct {
	code    string
	arg     string
	cmd     *Command
	suggest []string // "did you mean" command paths
}

func (e *usageError) Error() string { return "usage: " + e.code + " " + e.arg }

// Match finds the command for tokens (without the leading slash) by the
// longest registered path, and parses its arguments and flags.
func (rt *Router) Match(tokens []string) (*Command, []string, map[string]string, error) {
	words := canonicalPath(tokens)
	var cmd *Command
	n := 0
	for i := len(words); i > 0; i-- {
		if c, ok := rt.cmds[strings.Join(words[:i], " ")]; ok {
			cmd, n = c, i
			break
		}
	}
	if cmd == nil {
		// A known prefix (e.g. "/org unit") gets the list of its commands.
		for i := len(words); i > 0; i-- {
			prefix := strings.Join(words[:i], " ") + " "
			for p := range rt.cmds {
				if strings.HasPrefix(p, prefix) {
					return nil, nil, nil, &usageError{code: "incomplete", arg: strings.TrimSpace(prefix), suggest: rt.suggestCommands(tokens)}
				}
			}
		}
		return nil, nil, nil, &usageError{code: "unknown_command", arg: strings.Join(tokens, " "), suggest: rt.suggestCommands(tokens)}
	}
	var args []string
	flags := map[string]string{}
	rest := tokens[n:]
	for i := 0; i < len(rest); i++ {
		t := rest[i]
		if strings.HasPrefix(t, "--") && len(t) > 2 {
			name := strings.TrimPrefix(t, "--")
			if a, ok := flagAliases[name]; ok {
				name = a
			}
			takes, ok := cmd.Flags[name]
			if !ok {
				return cmd, nil, nil, &usageError{code: "unknown_flag", arg: t, cmd: cmd}
			}
			if !takes {
				flags[name] = "true"
				continue
			}
			if i+1 >= len(rest) || strings.HasPrefix(rest[i+1], "--") {
				return cmd, nil, nil, &usageError{code: "flag_value", arg: t, cmd: cmd}
			}
			if textFlags[name] {
				// Free text runs to the next flag: --result 已清理 12GB
				j := i + 1
				for j+1 < len(rest) && !strings.HasPrefix(rest[j+1], "--") {
					j++
				}
				flags[name] = strings.Join(rest[i+1:j+1], " ")
				i = j
				continue
			}
			flags[name] = canonicalValue(rest[i+1])
			i++
			continue
		}
		args = append(args, t)
	}
	if len(args) < cmd.MinArgs {
		return cmd, nil, nil, &usageError{code: "missing_args", cmd: cmd}
	}
	if cmd.MaxArgs >= 0 && len(args) > cmd.MaxArgs {
		return cmd, nil, nil, &usageError{code: "extra_args", arg: strings.Join(args[cmd.MaxArgs:], " "), cmd: cmd}
	}
	if cmd.MaxArgs < 0 && len(args) > cmd.MinArgs && cmd.MinArgs > 0 {
		joined := strings.Join(args[cmd.MinArgs-1:], " ")
		args = append(args[:cmd.MinArgs-1], joined)
	}
	for _, f := range cmd.Required {
		if _, ok := flags[f]; !ok {
			return cmd, nil, nil, &usageError{code: "missing_flag", arg: "--" + f, cmd: cmd}
		}
	}
	return cmd, args, flags, nil
}
