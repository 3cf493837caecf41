package bot

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// PeopleSource lists the names people go by: user id → name. The bot
// reads it through a short-lived cache (peopleTTL), so renderers, which
// have no context, can show names.
type PeopleSource func(ctx context.Context) (map[string]string, error)

// peopleTTL is how long the bot trusts the names it read; /org user
// add, move and remove and an org sync forget them at once.
const peopleTTL = 30 * time.Second

// OrgPeople is the people source of an org service: every active user.
func OrgPeople(orgs *org.Service) PeopleSource {
	return func(ctx context.Context) (map[string]string, error) {
		ps, err := orgs.Directory(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, len(ps))
		for _, p := range ps {
			out[p.User.ID] = p.User.Name
		}
		return out, nil
	}
}

// directory is the cache of a people source the twins share.
type directory struct {
	src   PeopleSource
	log   *slog.Logger
	mu    sync.Mutex
	names map[string]string
	at    time.Time // when names were read (zero: never, or forgotten)
}

// name is id's name, reading the source when the names are older than
// peopleTTL; ok is false when id is not a known user's.
func (d *directory) name(id string) (string, bool) {
	if d == nil || d.src == nil {
		return "", false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.at.IsZero() || time.Since(d.at) > peopleTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		names, err := d.src(ctx)
		cancel()
		if err != nil {
			d.log.Warn("reading people's names; showing ids", "err", err)
		} else {
			d.names = names
		}
		d.at = time.Now() // on an error, try again after peopleTTL, not on every name
	}
	n, ok := d.names[id]
	return n, ok && n != ""
}

// forget drops the names read, so the next one reads the source again.
func (d *directory) forget() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.at = time.Time{}
	d.mu.Unlock()
}

// person is how the bot shows a user: their name ("孙丽"), the id itself
// when unknown, and the system pseudo-user as a word.
func (b *Bot) person(id string) string {
	if id == core.SystemUser {
		return b.t("person.system")
	}
	if n, ok := b.people.name(id); ok {
		return n
	}
	return id
}

// Person is how pages in lang show a user (the console): as person.
func (b *Bot) Person(lang, id string) string { return b.in(lang).person(id) }

// EventBody is an incident timeline event's body in lang, as /incident
// show gives it (the console shows it so too).
func (b *Bot) EventBody(lang, kind, body string) string { return b.in(lang).eventBody(kind, body) }

// personID is a user with the id a command needs: "孙丽（sunli）", or the
// id alone when the name is unknown.
func (b *Bot) personID(id string) string {
	if n, ok := b.people.name(id); ok {
		return b.t("person.with_id", "name", n, "id", id)
	}
	return b.person(id)
}

// named is who acted in a notice that carries the actor's id and the
// name they acted under: the person by the directory's name; the system
// user by the name it acted as ("Alertmanager"), or the catalog word for
// its default "opsbot"; else the name carried, else the id.
func (b *Bot) named(id, name string) string {
	if id == core.SystemUser {
		if name == "" || name == core.SystemActor().Name {
			return b.t("person.system")
		}
		return name
	}
	if n, ok := b.people.name(id); ok {
		return n
	}
	if name != "" {
		return name
	}
	return id
}

// names shows users by name, joined ("孙丽、周杰"), or "无" for none.
func (b *Bot) names(ids []string) string {
	if len(ids) == 0 {
		return b.t("none")
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = b.person(id)
	}
	return strings.Join(out, b.t("person.sep"))
}

// declarer is who declared an incident: Alertmanager for the incidents
// an alert group opened, else the person (the system for what opsbot
// itself declared: a failed backup, a missed inspection).
func (b *Bot) declarer(i incident.Incident) string {
	if i.Source == incident.SourceAlertmanager {
		return b.t("person.alertmanager")
	}
	return b.person(i.DeclaredBy)
}

// personOrNone is a person, or "无" when there is none.
func (b *Bot) personOrNone(id string) string {
	if id == "" {
		return b.t("none")
	}
	return b.person(id)
}
