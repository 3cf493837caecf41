package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strconv"
	"time"

	"opsbot/bot"
	"opsbot/core"
	"opsbot/core/audit"
	"opsbot/core/org"
)

// AuditLog searches the audit log (org.Service), with /audit's rule: a
// sys admin everyone's entries, an admin those of the users and units
// they cover, a user their own.
type AuditLog interface {
	AuditSearch(ctx context.Context, actor core.Actor, q org.AuditQuery) ([]core.AuditEntry, error)
}

// AuditChain is the hash chain's status and check (audit.Service).
type AuditChain interface {
	LastVerification(ctx context.Context) (audit.Verification, bool, error)
	VerifyNow(ctx context.Context, actor core.Actor) (audit.Verification, error)
}

// auditPageSize is how many entries one page of the search shows.
const auditPageSize = 100

// auditExportMax caps one export; larger ranges go through `opsbot audit export`.
const auditExportMax = 100000

// auditPages are the audit search, its exports and the chain check.
func (c *Console) auditPages() []Page {
	if c.svc.AuditLog == nil {
		return nil
	}
	pages := []Page{
		{Path: "/console/audit", Nav: NavAudit, Title: "console.audit.title", Template: "audit.html", Handle: c.auditSearch},
		{Path: "/console/audit/export.csv", Data: true, Handle: c.auditExport(false)},
		{Path: "/console/audit/export.jsonl", Data: true, Handle: c.auditExport(true)},
	}
	if c.svc.AuditChain != nil {
		pages = append(pages, Page{Path: "/console/audit/verify", Method: "POST", Nav: NavAudit, Title: "console.audit.title", Handle: c.auditVerify})
	}
	return pages
}

// auditForm is the search as the form shows it.
type auditForm struct {
	Entity, Actor, Action, Since, Until string
}

// auditData is the audit page's data.
type auditData struct {
	Form    auditForm
	Entries []auditRow
	Next    string // the next page, "" on the last
	// Own is set when an empty search fell back to the user's own entries.
	Own bool
	// CSV and JSONL export the same search.
	CSV, JSONL string
	// Chain is the last walk of the chain (HasChain false: none yet, or no chain service).
	Chain    audit.Verification
	HasChain bool
	CanCheck bool
	Took     string // how long the last walk took
}

// auditRow is one entry as the page shows it: its columns and, in place
// of the raw before/after JSON, the sentence /audit shows.
type auditRow struct {
	core.AuditEntry
	Sentence string
}

// auditQuery reads the search form.
func auditQuery(r *Request) (auditForm, org.AuditQuery, error) {
	q := r.URL.Query()
	f := auditForm{Entity: q.Get("entity"), Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	aq := org.AuditQuery{Entity: f.Entity, Actor: f.Actor, Action: f.Action}
	var err error
	if aq.Since, err = dateParam(r, f.Since, "since", false); err != nil {
		return f, aq, err
	}
	if aq.Until, err = dateParam(r, f.Until, "until", true); err != nil {
		return f, aq, err
	}
	before, err := intParam(q.Get("before"), "before")
	aq.Before = int64(before)
	return f, aq, err
}

// search runs q; an empty search a sys admin alone may run falls back
// to the user's own entries (own true).
func (c *Console) search(r *Request, f auditForm, q org.AuditQuery) (entries []core.AuditEntry, own bool, err error) {
	entries, err = c.svc.AuditLog.AuditSearch(r.Context(), r.Actor, q)
	var ce *core.Error
	if err != nil && f == (auditForm{}) && errors.As(err, &ce) && ce.Code == "audit_search_all" {
		q.Actor = r.Actor.UserID
		entries, err = c.svc.AuditLog.AuditSearch(r.Context(), r.Actor, q)
		own = true
	}
	return entries, own, err
}

// auditSearch is the audit page: the search, a page at a time
// (?before=seq), and the chain's status.
func (c *Console) auditSearch(r *Request) (any, error) {
	f, q, err := auditQuery(r)
	if err != nil {
		return nil, err
	}
	q.Limit = auditPageSize + 1
	entries, own, err := c.search(r, f, q)
	if err != nil {
		return nil, err
	}
	d := auditData{Form: f, Own: own, CanCheck: c.svc.AuditChain != nil}
	kv := []string{"entity", f.Entity, "actor", f.Actor, "action", f.Action, "since", f.Since, "until", f.Until}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		d.Next = r.Link("/console/audit", append(kv, "before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))...)
	}
	d.Entries = make([]auditRow, len(entries))
	for i, e := range entries {
		d.Entries[i] = auditRow{AuditEntry: e, Sentence: bot.AuditSentence(r.Lang, r.Location(), e, r.Person)}
	}
	d.CSV, d.JSONL = r.Link("/console/audit/export.csv", kv...), r.Link("/console/audit/export.jsonl", kv...)
	if c.svc.AuditChain != nil {
		if d.Chain, d.HasChain, err = c.svc.AuditChain.LastVerification(r.Context()); err != nil {
			return nil, err
		}
		d.Took = d.Chain.Took.Round(time.Millisecond).String()
	}
	return d, nil
}

// auditExport downloads every entry the search selects, newest first
// (at most auditExportMax), as CSV (UTF-8 with a BOM, for Excel) or as
// JSON lines in the format of `opsbot audit export`.
func (c *Console) auditExport(jsonl bool) func(r *Request) (any, error) {
	return func(r *Request) (any, error) {
		f, q, err := auditQuery(r)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if !jsonl {
			buf.WriteString("\ufeff")
			_ = w.Write([]string{r.T("console.audit.seq"), r.T("console.audit.at"), r.T("console.audit.actor"), r.T("console.audit.platform"),
				r.T("console.audit.action"), r.T("console.audit.entity"), r.T("console.audit.before"), r.T("console.audit.after"), "hash"})
		}
		for n := 0; n < auditExportMax; {
			q.Limit = org.MaxAuditPage
			entries, _, err := c.search(r, f, q)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if jsonl {
					line, err := audit.ExportLine(e)
					if err != nil {
						return nil, err
					}
					buf.Write(append(line, '\n'))
				} else {
					_ = w.Write([]string{strconv.FormatInt(e.Seq, 10), r.Time(e.At), e.Actor, e.Platform, e.Action, e.Entity, e.Before, e.After, e.Hash})
				}
			}
			n += len(entries)
			if len(entries) < org.MaxAuditPage {
				break
			}
			q.Before = entries[len(entries)-1].Seq
		}
		w.Flush()
		name, ctype := "audit-"+r.Now().In(r.Location()).Format("20060102-1504"), "text/csv; charset=utf-8"
		if jsonl {
			name, ctype = name+".jsonl", "application/x-ndjson"
		} else {
			name += ".csv"
		}
		return &Download{Name: name, ContentType: ctype, Body: buf.Bytes()}, nil
	}
}

// auditVerify walks the chain now (sys admins; audit.Service.VerifyNow
// says who may) and shows the page again with the outcome.
func (c *Console) auditVerify(r *Request) (any, error) {
	if _, err := c.svc.AuditChain.VerifyNow(r.Context(), r.Actor); err != nil {
		return nil, err
	}
	return Redirect(r.Link("/console/audit") + "#chain"), nil
}
