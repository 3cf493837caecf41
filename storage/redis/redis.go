// Package redis is opsbot's Redis access: one go-redis client shared with
// asynq, and the small Redis-backed helpers the adapters need (Shared:
// inbound de-duplication, rate limiters, a key-value cache).
package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"opsbot/core"
)

// Open parses a redis:// URL, connects and pings.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	c := goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", opts.Addr, err)
	}
	return c, nil
}

// Options say how to reach Redis: one server (Mode "single", URL), a
// master found through Sentinels ("sentinel": MasterName, Addrs) or a
// Redis Cluster ("cluster": Addrs).
type Options struct {
	Mode             string
	URL              string
	MasterName       string
	Addrs            []string
	Username         string
	Password         string
	SentinelPassword string
	DB               int
	TLS              bool
	TLSCAFile        string
}

// Connect opens the client o describes, the one go-redis and asynq share,
// and pings it. A Sentinel client follows failovers to the new master; a
// cluster client follows slot moves.
func Connect(ctx context.Context, o Options) (goredis.UniversalClient, error) {
	var tc *tls.Config
	if o.TLS {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
		if o.TLSCAFile != "" {
			pem, err := os.ReadFile(o.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("redis: tls ca: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("redis: tls ca: no certificate in %s", o.TLSCAFile)
			}
		}
	}
	var c goredis.UniversalClient
	switch o.Mode {
	case "", "single":
		return Open(ctx, o.URL)
	case "sentinel":
		c = goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: o.MasterName, SentinelAddrs: o.Addrs,
			SentinelPassword: o.SentinelPassword, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: tc})
	case "cluster":
		c = goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: o.Addrs, Username: o.Username, Password: o.Password, TLSConfig: tc})
	default:
		return nil, fmt.Errorf("redis: unknown mode %q (single, sentinel or cluster)", o.Mode)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: ping %s %v: %w", o.Mode, o.Addrs, err)
	}
	return c, nil
}

// Shared is the state the chat adapters share with every replica through
// Redis: request ids already handled (First), send slots of rate limits
// (Reserve, Take) and small cached values (Get, Set, Exists, Delete: the
// WeCom access token, Slack's e-mail link outcomes). Keys are the
// caller's, prefix included; the adapters declare the few methods they use.
type Shared struct {
	c       goredis.UniversalClient
	version *core.Batcher[struct{}, string] // OrgVersion's reads, shared by concurrent callers
}

// NewShared returns the shared adapter state on c.
func NewShared(c goredis.UniversalClient) *Shared {
	s := &Shared{c: c}
	s.version = core.NewSharedReads(func(ctx context.Context, _ struct{}) (string, error) { return s.readOrgVersion(ctx) })
	return s
}
