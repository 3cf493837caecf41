// Package pgtest gives each test a real Postgres store in a fresh schema
// with every migration applied, dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"opsbot/storage/postgres"
)

// DefaultURL is used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/opsbot_test?sslmode=disable"

// URL returns the test database URL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a fresh schema and returns its name; it is dropped at cleanup.
func Schema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatalf("pgtest: connect to %s (run `make test`, or set TEST_DATABASE_URL): %v", URL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			t.Logf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// New returns a migrated store in a fresh schema.
func New(t testing.TB) *postgres.Store {
	t.Helper()
	schema := Schema(t)
	s, err := postgres.Open(context.Background(), URL(), postgres.Options{MaxConns: 8, SearchPath: schema})
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return s
}

// Exec runs SQL in the store's schema (for tests that tamper with rows).
func Exec(t testing.TB, s *postgres.Store, sql string, args ...any) {
	t.Helper()
	if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// Database creates a fresh database with settings (e.g. "deadlock_timeout =
// '100ms'") as its defaults, and returns a migrated store on it and its
// name; both are dropped when the test ends. A test that reads the
// database's own counters (pg_stat_database) uses it, so other tests
// sharing the test database do not count.
func Database(t testing.TB, maxConns int32, settings ...string) (*postgres.Store, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(URL())
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", URL(), err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connect to %s (run `make test`, or set TEST_DATABASE_URL): %v", URL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := cfg.Database + "_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	for _, s := range settings {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" SET "+s); err != nil {
			t.Fatalf("pgtest: %s: %v", s, err)
		}
	}
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", URL(), err)
	}
	u.Path = "/" + name
	s, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: maxConns})
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return s, name
}
