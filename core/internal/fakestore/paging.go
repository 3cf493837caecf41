package fakestore

import (
	"context"
	"slices"
	"time"

	"opsbot/core"
	"opsbot/core/paging"
)

// Paging is the fake store's paging part.
type Paging struct {
	ContactList []paging.Contact
	QuietMap    map[string]string
	PageList    []paging.Record
	TokenList   []paging.Token
}

// PagingStore runs paging transactions on the fake store.
func (s Store) Paging() paging.Store { return pagingStore(s) }

type pagingStore Store

func (s pagingStore) InTx(_ context.Context, fn func(paging.Tx) error) error { return fn(s.Tx) }

// Profile returns a person's contacts and quiet hours.
func (t *Tx) Profile(_ context.Context, user string) (paging.Profile, error) {
	p := paging.Profile{UserID: user, Quiet: t.QuietMap[user]}
	for _, c := range t.ContactList {
		if c.UserID == user {
			p.Contacts = append(p.Contacts, c)
		}
	}
	return p, nil
}

// SaveContact inserts or updates a contact.
func (t *Tx) SaveContact(_ context.Context, c *paging.Contact) error {
	for i := range t.ContactList {
		if t.ContactList[i].ID == c.ID {
			t.ContactList[i] = *c
			return nil
		}
	}
	c.ID = int64(len(t.ContactList) + 1)
	t.ContactList = append(t.ContactList, *c)
	return nil
}

// DeleteContact removes a contact.
func (t *Tx) DeleteContact(_ context.Context, id int64) error {
	t.ContactList = slices.DeleteFunc(t.ContactList, func(c paging.Contact) bool { return c.ID == id })
	return nil
}

// SetQuiet sets quiet hours.
func (t *Tx) SetQuiet(_ context.Context, user, quiet string) error {
	if t.QuietMap == nil {
		t.QuietMap = map[string]string{}
	}
	t.QuietMap[user] = quiet
	return nil
}

// SavePage inserts (once per key) or updates a page.
func (t *Tx) SavePage(_ context.Context, p *paging.Record) (bool, error) {
	for i := range t.PageList {
		if p.ID != 0 && t.PageList[i].ID == p.ID {
			t.PageList[i] = *p
			return true, nil
		}
		if p.ID == 0 && t.PageList[i].Key == p.Key {
			return false, nil
		}
	}
	p.ID = int64(len(t.PageList) + 1)
	t.PageList = append(t.PageList, *p)
	return true, nil
}

// FindPages returns the pages f selects, newest first.
func (t *Tx) FindPages(_ context.Context, f paging.Filter) ([]paging.Record, error) {
	var out []paging.Record
	for i := len(t.PageList) - 1; i >= 0; i-- {
		p := t.PageList[i]
		if (f.Key == "" || p.Key == f.Key) && (f.IncidentID == 0 || p.IncidentID == f.IncidentID) &&
			(f.UserID == "" || p.UserID == f.UserID) && (f.Address == "" || p.Address == f.Address) &&
			(f.MessageID == "" || p.MessageID == f.MessageID) && (f.Methods == nil || slices.Contains(f.Methods, p.Method)) &&
			(f.Statuses == nil || slices.Contains(f.Statuses, p.Status)) && !p.At.Before(f.Since) {
			out = append(out, p)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// PutToken stores a one-time link.
func (t *Tx) PutToken(_ context.Context, tok paging.Token) error {
	t.TokenList = append(t.TokenList, tok)
	return nil
}

// UseToken uses a one-time link once.
func (t *Tx) UseToken(_ context.Context, hash string, now time.Time) (paging.Token, bool, error) {
	for i := range t.TokenList {
		if t.TokenList[i].Hash == hash {
			if t.TokenList[i].UsedAt != nil {
				return t.TokenList[i], false, nil
			}
			t.TokenList[i].UsedAt = &now
			return t.TokenList[i], true, nil
		}
	}
	return paging.Token{}, false, core.ErrNotFound
}

// HoldIncident locks nothing: the fake store runs one transaction at a time.
func (t *Tx) HoldIncident(context.Context, int64) error { return nil }
