package bot

import (
	"strconv"
	"strings"

	"opsbot/core"
)

// PageSize is how many lines a long list (/incident list, /org tree)
// shows in one reply; --page N shows the next ones.
const PageSize = 20

// pageFlag is the --page flag of a paged command.
var pageFlag = map[string]bool{"page": true}

// pageOf is the page --page asks for: 1 when not given, else a whole
// number from 1.
func pageOf(r *Request) (int, error) {
	if !r.Has("page") {
		return 1, nil
	}
	p, err := strconv.Atoi(strings.TrimSpace(r.Flag("page")))
	if err != nil || p < 1 {
		return 0, core.Invalid("page", "value", r.Flag("page"))
	}
	return p, nil
}

// paged is page p (from 1) of lines, PageSize a page, with a last line
// naming the command for the next page (next, e.g. "/org tree dongcheng",
// with " --page N" added) when more lines follow, and the page number when
// there are several. more says lines has more after what was read (a list
// read PageSize·p+1 at most). A page past the end is refused.
func (b *Bot) paged(lines []string, p int, more bool, next string) (string, error) {
	from := (p - 1) * PageSize
	if p > 1 && from >= len(lines) {
		return "", core.Invalid("page_past_end", "page", strconv.Itoa(p), "pages", strconv.Itoa(max(1, (len(lines)+PageSize-1)/PageSize)))
	}
	to := min(from+PageSize, len(lines))
	more = more || to < len(lines)
	out := strings.Join(lines[from:to], "\n")
	switch {
	case more:
		out += "\n" + b.t("page.more", "page", strconv.Itoa(p), "next", next+" --page "+strconv.Itoa(p+1))
	case p > 1:
		out += "\n" + b.t("page.last", "page", strconv.Itoa(p))
	}
	return out, nil
}
