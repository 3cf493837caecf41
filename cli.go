package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"opsbot/configs"
	"opsbot/storage/postgres"
)

// mode says which parts run in this process.
type mode struct{ http, worker, scheduler bool }

var modes = map[string]mode{
	"all":       {true, true, true},
	"serve":     {http: true},
	"worker":    {worker: true},
	"scheduler": {scheduler: true},
}

const usage = `usage: opsbot [all|serve|worker|scheduler|migrate|audit verify] [--config FILE]`

func cli(args, environ []string, stdout, stderr io.Writer) int {
	sub := "all"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
		if sub == "audit" {
			if len(args) == 0 || args[0] != "verify" {
				fmt.Fprintln(stderr, usage)
				return 2
			}
			sub, args = "audit verify", args[1:]
		}
	}
	fs := flag.NewFlagSet("opsbot "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (default $OPSBOT_CONFIG, then configs/dev.yaml)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "opsbot: unexpected arguments %q\n%s\n", fs.Args(), usage)
		return 2
	}
	getenv := func(k string) string {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	source := configs.Resolve(*configPath, getenv, exists)
	cfg, err := configs.Load(source, environ)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	logger := newLogger(cfg.Log, stderr)
	if source == "" {
		source = "embedded configs/dev.yaml"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch sub {
	case "migrate":
		err = migrate(ctx, cfg)
		if err == nil {
			fmt.Fprintln(stdout, "migrations applied")
		}
	case "audit verify":
		var broken bool
		broken, err = verifyAudit(ctx, cfg, stdout)
		if err == nil && broken {
			return 1
		}
	default:
		m, ok := modes[sub]
		if !ok {
			fmt.Fprintf(stderr, "opsbot: unknown subcommand %q\n%s\n", sub, usage)
			return 2
		}
		logger.Info("starting", "subcommand", sub, "config", source, "database", cfg.Redacted().Database.URL)
		err = run(ctx, cfg, logger, m, nil)
	}
	if err != nil {
		fmt.Fprintln(stderr, "opsbot:", err)
		return 1
	}
	return 0
}

func newLogger(c configs.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func openStore(ctx context.Context, cfg *configs.Config) (*postgres.Store, error) {
	return postgres.Open(ctx, cfg.Database.URL, postgres.Options{MaxConns: cfg.Database.MaxConns})
}

func migrate(ctx context.Context, cfg *configs.Config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

func verifyAudit(ctx context.Context, cfg *configs.Config, out io.Writer) (broken bool, err error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer store.Close()
	n, brk, err := store.VerifyAudit(ctx)
	if err != nil {
		return false, err
	}
	if brk != nil {
		fmt.Fprintf(out, "audit chain BROKEN after %d good entries: %s\n", n, brk.Error())
		return true, nil
	}
	fmt.Fprintf(out, "audit chain ok: %d entries verified\n", n)
	return false, nil
}
