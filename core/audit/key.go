package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
)

// KeySize is the size in bytes of a generated audit key; a key file must
// hold at least this many bytes of secret.
const KeySize = 32

// Key is the HMAC-SHA256 key that seals the chain and signs checkpoints.
// It lives in a file outside the database (audit.key_file), so someone
// with every right on the database can neither re-seal a changed entry
// nor sign a checkpoint.
type Key struct {
	secret []byte
	id     string
}

// ErrBadKey means a key file does not hold a usable key.
var ErrBadKey = errors.New("audit key: want at least 64 hex digits (32 random bytes)")

// NewKey returns the key of secret (at least KeySize bytes).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < KeySize {
		return nil, ErrBadKey
	}
	id := sha256.Sum256(append([]byte("opsbot-audit-key-id|"), secret...))
	return &Key{secret: append([]byte(nil), secret...), id: hex.EncodeToString(id[:8])}, nil
}

// ParseKey reads a key file's text: hex digits, surrounding space ignored.
func ParseKey(text []byte) (*Key, error) {
	secret, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return NewKey(secret)
}

// GenerateKey reads KeySize bytes from random and returns the text of a
// new key file.
func GenerateKey(random io.Reader) ([]byte, error) {
	secret := make([]byte, KeySize)
	if _, err := io.ReadFull(random, secret); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return []byte(hex.EncodeToString(secret) + "\n"), nil
}

// ID names the key without revealing it: checkpoints carry it, so a
// verify with the wrong key says so.
func (k *Key) ID() string { return k.id }

// MAC returns the keyed seal of e, chained to e.PrevHash: HMAC-SHA256 over
// the same fields Hash covers.
func (k *Key) MAC(e core.AuditEntry) string {
	h := hmac.New(sha256.New, k.secret)
	writeFields(h, "opsbot-audit-entry-v2", e)
	return hex.EncodeToString(h.Sum(nil))
}

// sign returns the HMAC of the fields, length-prefixed.
func (k *Key) sign(fields ...string) string {
	h := hmac.New(sha256.New, k.secret)
	for _, s := range fields {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeFields writes the entry's fields to h, each length-prefixed so that
// moving text between fields changes the result; prefix (if any) first.
func writeFields(h hash.Hash, prefix string, e core.AuditEntry) {
	fields := []string{
		strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Platform, e.Action, e.Entity, e.Before, e.After, e.PrevHash,
	}
	if prefix != "" {
		fields = append([]string{prefix}, fields...)
	}
	for _, s := range fields {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
}
