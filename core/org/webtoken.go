package org

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"opsbot/core"
)

// WebToken is a personal sign-in token for the web chat. Only its hash is
// stored; the token itself is shown once, in the link.
type WebToken struct {
	Hash      string    `json:"-"`
	UserID    string    `json:"user"`
	IssuedBy  string    `json:"issued_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueWebToken makes a personal web chat token for userID, valid for
// ttl: anyone for themselves, an admin covering the user's unit for them.
func (s *Service) IssueWebToken(ctx context.Context, actor core.Actor, userID string, ttl time.Duration) (string, WebToken, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", WebToken{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	var wt WebToken
	err := s.store.InTx(ctx, func(tx Ports) error {
		var u User
		var err error
		if userID != actor.UserID {
			_, u, err = adminOfUser(ctx, tx, actor, userID, "webchat.link")
		} else {
			u, err = getUser(ctx, tx, userID)
		}
		if err != nil {
			return err
		}
		if u.Service {
			return core.Forbidden("service_user_signin", "id", userID)
		}
		now := s.clock.Now()
		wt = WebToken{Hash: core.HashSecret(token), UserID: userID, IssuedBy: actor.UserID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := tx.InsertWebToken(ctx, wt); err != nil {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "webchat.token.issue", "user:"+userID, nil, wt)
	})
	return token, wt, err
}

// RevokeWebTokens ends every web chat session of userID (themselves, or an
// admin covering them) and says how many there were.
func (s *Service) RevokeWebTokens(ctx context.Context, actor core.Actor, userID string) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(tx Ports) error {
		if userID != actor.UserID {
			if _, _, err := adminOfUser(ctx, tx, actor, userID, "webchat.logout"); err != nil {
				return err
			}
		}
		var err error
		if n, err = tx.RevokeWebTokens(ctx, userID, s.clock.Now()); err != nil || n == 0 {
			return err
		}
		return core.Record(ctx, tx, s.clock.Now(), actor, "webchat.token.revoke", "user:"+userID, nil, map[string]int{"revoked": n})
	})
	return n, err
}

// WebTokenUser returns the active user a web token signs in, or
// core.ErrNotFound for an unknown, expired or revoked token.
func (s *Service) WebTokenUser(ctx context.Context, token string) (string, error) {
	var user string
	err := s.store.InTx(ctx, func(tx Ports) error {
		var err error
		user, err = tx.WebTokenUser(ctx, core.HashSecret(token), s.clock.Now())
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, user)
		if err == nil && u.Removed {
			return core.ErrNotFound
		}
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return "", core.ErrNotFound
	}
	return user, err
}
