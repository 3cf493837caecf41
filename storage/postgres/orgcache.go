package postgres

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// orgCacheAge bounds how long cached org rows are trusted even when the
// version says nothing changed (a version bump lost to a Redis outage).
const orgCacheAge = time.Minute

// orgCache keeps the org rows every command reads (the actor's user row,
// grants and their scope units, platform identities, the tree) for as
// long as the org's version, read once per transaction, stays the same.
// Every replica bumps the version after committing an org change
// (OnOrgChange), so a change on one is seen by the next transaction on
// all.
type orgCache struct {
	version func(ctx context.Context) (string, error)
	mu      sync.Mutex
	ver     string
	since   time.Time
	rows    map[string]any
	gen     uint64 // moved on by forget: a row read before is not put
	hits    atomic.Int64
	misses  atomic.Int64
}

// CacheOrg makes transactions read org rows through a cache valid while
// version (core-wide: it changes with every committed org change on any
// replica) returns the same value. A version that cannot be read
// bypasses the cache for that transaction.
func (s *Store) CacheOrg(version func(ctx context.Context) (string, error)) {
	s.orgCache = &orgCache{version: version}
}

// OrgCacheStats says how many org reads the cache answered and how many
// went to Postgres.
func (s *Store) OrgCacheStats() (hits, misses int64) {
	if s.orgCache == nil {
		return 0, 0
	}
	return s.orgCache.hits.Load(), s.orgCache.misses.Load()
}

// forget drops every cached row: this replica changed the org, and reads
// its own change even when the version bump is lost.
func (c *orgCache) forget() {
	c.mu.Lock()
	c.ver, c.rows = "", nil
	c.gen++
	c.mu.Unlock()
}

// get returns the row under key cached at version ver, and the
// generation to put a row read now under.
func (c *orgCache) get(ver, key string) (any, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver != ver || time.Since(c.since) > orgCacheAge {
		c.ver, c.since, c.rows = ver, time.Now(), map[string]any{}
		return nil, false, c.gen
	}
	v, ok := c.rows[key]
	return v, ok, c.gen
}

// put caches v under key when the cache is still at version ver and
// generation gen.
func (c *orgCache) put(ver string, gen uint64, key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver == ver && c.gen == gen {
		c.rows[key] = v
	}
}

// cachedOrg answers an org read from the store's cache, or loads it and
// caches it. A transaction that wrote the org reads Postgres (its own
// writes); so does one whose version could not be read.
func cachedOrg[T any](ctx context.Context, t *Tx, key string, load func() (T, error)) (T, error) {
	c := t.cache
	if c == nil || t.org {
		return load()
	}
	if t.ver == "" {
		v, err := scopedVersion(ctx, c)
		if err != nil || v == "" {
			t.cache = nil
			return load()
		}
		t.ver = v
	}
	v, ok, gen := c.get(t.ver, key)
	if ok {
		c.hits.Add(1)
		return v.(T), nil
	}
	c.misses.Add(1)
	row, err := load()
	if err == nil {
		c.put(t.ver, gen, key, row)
	}
	return row, err
}

// orgScope is one command's org version: read by its first transaction
// that reads the org, kept by the others (OrgScope).
type orgScope struct {
	once sync.Once
	ver  string
	err  error
}

type orgScopeKey struct{}

// OrgScope returns a context in which every transaction reads cached org
// rows at one version, the one its first org read found: a command reads
// the org once from Redis, not once per transaction, and sees one org
// throughout (a change committed before the command began is seen by all
// of it; one committed while it runs, by the next command).
func (s *Store) OrgScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, orgScopeKey{}, &orgScope{})
}

// scopedVersion is the org version a transaction reads the cache at: its
// command's (OrgScope), else read now.
func scopedVersion(ctx context.Context, c *orgCache) (string, error) {
	sc, ok := ctx.Value(orgScopeKey{}).(*orgScope)
	if !ok {
		return c.version(ctx)
	}
	sc.once.Do(func() { sc.ver, sc.err = c.version(ctx) })
	return sc.ver, sc.err
}

// clone copies a cached slice, so callers may change theirs.
func clone[T any](s []T, err error) ([]T, error) { return slices.Clone(s), err }

func userKey(id string) string                { return "user\x00" + id }
func grantsKey(id string) string              { return "grants\x00" + id }
func unitKey(code string) string              { return "unit\x00" + code }
func identityKey(platform, ext string) string { return "identity\x00" + platform + "\x00" + ext }
func subtreeKey(prefix string) string         { return "subtree\x00" + prefix }
func usersInKey(codes []string) string        { return "usersin\x00" + strings.Join(codes, "\x00") }
