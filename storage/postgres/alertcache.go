package postgres

import (
	"maps"
	"slices"
	"sync"
	"time"

	"opsbot/core/alert"
)

// alertCache is what this process last wrote of each alert group's alerts,
// with the version of the group row that write left (every write of the
// row gives it a version never used before). A transaction that
// locked a group and found it still at that version knows the group's
// alerts without reading them: SaveAlerts then sends only the alerts that
// changed, and counts in memory. Any other write of the group (another
// replica's, a timer's, one behind opsbot's back that also writes the
// group row) bumps the version, and the next transaction reads afresh;
// a transaction that does not commit adds nothing and makes the cache
// forget the groups it used (it may have failed on a stale entry: one
// whose alert rows were changed behind opsbot's back without touching
// the group row, which the status update finds: alertStatusesSQL).
type alertCache struct {
	mu sync.Mutex
	m  map[string]cachedAlerts
}

type cachedAlerts struct {
	version int64
	alerts  []alert.Alert // never changed once cached: a transaction copies before it changes
}

// Bounds: the groups remembered, and the alerts of one group (a larger
// group is read afresh every time).
const (
	alertCacheGroups = 4096
	alertCacheAlerts = 256
)

func newAlertCache() *alertCache { return &alertCache{m: map[string]cachedAlerts{}} }

// get returns group key's alerts when the cache holds them at version.
func (c *alertCache) get(key string, version int64) ([]alert.Alert, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.version != version {
		return nil, false
	}
	return e.alerts, true
}

// keep records what a committed transaction left: each group whose alerts
// it saved (states), at the version its last write of the group row
// returned (written). A group whose row it did not write is forgotten.
func (c *alertCache) keep(states map[string][]alert.Alert, written map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, alerts := range states {
		v, ok := written[key]
		if !ok || len(alerts) > alertCacheAlerts {
			delete(c.m, key)
			continue
		}
		if _, there := c.m[key]; !there && len(c.m) >= alertCacheGroups {
			for k := range c.m { // make room: any one will do
				delete(c.m, k)
				break
			}
		}
		c.m[key] = cachedAlerts{version: v, alerts: alerts}
	}
}

// forget drops the groups of states: a transaction that used them failed.
func (c *alertCache) forget(states map[string][]alert.Alert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range states {
		delete(c.m, key)
	}
}

// scanMax is the most items looked through for a key rather than
// mapped by it (indexBy, find).
const scanMax = 16

// indexBy maps items by key, for finding them (find) among items and
// grow more to come; nil when they are few enough to look through.
func indexBy[T any, K comparable](items []T, key func(T) K, grow int) map[K]int {
	if len(items)+grow <= scanMax {
		return nil
	}
	m := make(map[K]int, len(items)+grow)
	for i, it := range items {
		m[key(it)] = i
	}
	return m
}

// find is the index of the item of key k among items, by the map indexBy
// gave, or looking through them when it gave none.
func find[T any, K comparable](items []T, by map[K]int, key func(T) K, k K) (int, bool) {
	if by != nil {
		i, ok := by[k]
		return i, ok
	}
	i := slices.IndexFunc(items, func(it T) bool { return key(it) == k })
	return i, i >= 0
}

func fingerprintOf(a alert.Alert) string { return a.Fingerprint }

// changes are the posted alerts to write: whole (new, or changed in more
// than their status and end) and status (stored, with only their status
// or end changed: labels and annotations, most of an alert's bytes, need
// not go again; an alert's labels never change, as Alertmanager derives
// its fingerprint from them).
type changes struct {
	whole, status []alert.Alert
}

// merge is base with posted applied (an alert replaced by fingerprint, a
// new one added) and the posted alerts that differ from base's, each
// once (a fingerprint posted twice is written as posted last), in all's
// order (base's, then the new ones as posted).
func merge(base, posted []alert.Alert) (all []alert.Alert, changed changes) {
	all = make([]alert.Alert, len(base), len(base)+len(posted))
	copy(all, base)
	at := indexBy(all, fingerprintOf, len(posted))
	var few [scanMax]bool
	seen := few[:] // by index into all: posted already
	if at != nil {
		seen = make([]bool, len(all)+len(posted))
	}
	for _, p := range posted {
		i, ok := find(all, at, fingerprintOf, p.Fingerprint)
		if !ok {
			if at != nil {
				at[p.Fingerprint] = len(all)
			}
			seen[len(all)] = true
			all = append(all, p)
			continue
		}
		seen[i] = true
		all[i] = p
	}
	for i, p := range all {
		switch {
		case !seen[i]:
		case i >= len(base):
			changed.whole = append(changed.whole, p)
		case sameAlert(base[i], p):
		case sameApartFromStatus(base[i], p):
			changed.status = append(changed.status, p)
		default:
			changed.whole = append(changed.whole, p)
		}
	}
	return all, changed
}

// sameAlert reports whether a and b store as the same row (times at
// Postgres' microsecond precision, a zero end as none).
func sameAlert(a, b alert.Alert) bool {
	return a.Status == b.Status && sameEnd(a.EndsAt, b.EndsAt) && sameApartFromStatus(a, b)
}

// sameApartFromStatus reports whether a and b store as the same row but
// for their status and end.
func sameApartFromStatus(a, b alert.Alert) bool {
	return a.GeneratorURL == b.GeneratorURL && a.StartsAt.Round(time.Microsecond).Equal(b.StartsAt.Round(time.Microsecond)) &&
		maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations)
}

func sameEnd(a, b time.Time) bool {
	ea, eb := endOf(a), endOf(b)
	if ea == nil || eb == nil {
		return ea == nil && eb == nil
	}
	return ea.Round(time.Microsecond).Equal(eb.Round(time.Microsecond))
}

// endOf is an alert's end as stored: none for Alertmanager's zero time.
func endOf(t time.Time) *time.Time {
	if t.IsZero() || t.Year() <= 1 {
		return nil
	}
	return &t
}

// countAlerts counts a group's alerts: firing, resolved, and the earliest
// start of a firing one whose label kindLabel is kindValue.
func countAlerts(alerts []alert.Alert, kindLabel, kindValue string) alert.AlertCounts {
	var c alert.AlertCounts
	for _, a := range alerts {
		switch a.Status {
		case "firing":
			c.Firing++
			if v, ok := a.Labels[kindLabel]; ok && kindLabel != "" && v == kindValue && (c.HTTPSince == nil || a.StartsAt.Before(*c.HTTPSince)) {
				s := a.StartsAt
				c.HTTPSince = &s
			}
		case "resolved":
			c.Resolved++
		}
	}
	return c
}
