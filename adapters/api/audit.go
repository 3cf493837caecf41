package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// AuditReader reads the audit log with the /audit command's rule (the
// org service): a sys admin sees everything, an admin the units and
// users they cover, a user their own history.
type AuditReader interface {
	AuditTrail(ctx context.Context, actor core.Actor, entity string) ([]core.AuditEntry, error)
	AuditSearch(ctx context.Context, actor core.Actor, q org.AuditQuery) ([]core.AuditEntry, error)
}

// AuditEntry is one record of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor" doc:"Who acted (a user id; \"system\" for opsbot itself)."`
	Platform string    `json:"platform" doc:"Where they acted: wecom, slack, webchat, api, system."`
	Action   string    `json:"action"`
	Entity   string    `json:"entity" doc:"What it changed, e.g. incident:7, user:zhangsan."`
	Before   string    `json:"before,omitempty" doc:"The state before, as JSON; absent when created."`
	After    string    `json:"after,omitempty" doc:"The state after, as JSON; absent when removed."`
	Hash     string    `json:"hash"`
}

func auditEntry(e core.AuditEntry) AuditEntry {
	return AuditEntry{Seq: e.Seq, At: utc(e.At), Actor: e.Actor, Platform: e.Platform, Action: e.Action, Entity: e.Entity,
		Before: e.Before, After: e.After, Hash: e.Hash}
}

// auditRoutes are an entity's history and the search by actor and time.
func (a *API) auditRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/audit/entities/{ref}", OperationID: "getAuditTrail", Tag: "audit",
			Summary:     "An entity's audit history, oldest first (/audit <entity>)",
			Description: "A sys admin sees every entity, an admin the units and users they cover, a user their own history.",
			Params:      []Param{{Name: "ref", Description: "The entity reference, e.g. incident:7, user:zhangsan, unit:dc-edu."}},
			Paged:       true, Response: Page[AuditEntry]{}, Handle: a.auditTrail},
		{Method: http.MethodGet, Path: "/api/v1/audit", OperationID: "searchAudit", Tag: "audit",
			Summary: "Search the audit log by who acted and when, newest first",
			Description: "The /audit rule read for who acted: a sys admin may search everyone (no actor), " +
				"an admin the users they cover, a user their own entries.",
			Params: []Param{{Name: "actor", Description: "The user who acted; everyone when absent (sys admins only)."},
				{Name: "since", Type: TypeTime, Description: "Entries at or after this time."},
				{Name: "until", Type: TypeTime, Description: "Entries before this time."}},
			Paged: true, Response: Page[AuditEntry]{}, Handle: a.searchAudit},
	}
}

func (a *API) auditTrail(c *Call) (any, error) {
	es, err := a.cfg.Audit.AuditTrail(c.Ctx, c.Actor, c.String("ref"))
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(es, auditEntry))
}

func (a *API) searchAudit(c *Call) (any, error) {
	before, err := CursorInt(c)
	if err != nil {
		return nil, err
	}
	limit := c.Limit()
	es, err := a.cfg.Audit.AuditSearch(c.Ctx, c.Actor, org.AuditQuery{Actor: c.String("actor"), Since: c.Time("since"),
		Until: c.Time("until"), Before: before, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	p := Page[AuditEntry]{Items: Convert(es[:min(limit, len(es))], auditEntry)}
	if len(es) > limit {
		p.NextCursor = EncodeCursor(strconv.FormatInt(es[limit-1].Seq, 10))
	}
	return p, nil
}
