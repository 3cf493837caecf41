// Command opsbot is a chat-ops bot for government IT operations teams.
//
//	opsbot [all]          HTTP server + worker + scheduler in one process
//	opsbot serve          HTTP only
//	opsbot worker         asynq task handlers only
//	opsbot scheduler      periodic task scheduler only
//	opsbot migrate        apply database migrations and exit
//	opsbot audit verify   check the audit chain (--checkpoint FILE: and published checkpoints)
//	opsbot audit checkpoint  sign and publish a checkpoint of the chain head
//	opsbot audit export   the audit log as JSON lines with its end checkpoint
//	opsbot check-config   validate and print the effective config, secrets redacted
//	opsbot version        version, commit and build date (set by make dist)
//	opsbot probe [URL]    exit 0 when URL (default the local /readyz) answers 2xx
//
// Every subcommand takes --config FILE (or $OPSBOT_CONFIG; configs/dev.yaml
// or its embedded copy when neither is given). main.go only wires.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"opsbot/adapters/api"
	"opsbot/adapters/server"
	"opsbot/bot"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/paging"
	"opsbot/storage/postgres"
	"opsbot/storage/redis"
	"opsbot/tasks"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// hooks lets tests reach inside a running app.
type hooks struct {
	ready func(addr string)        // told the HTTP address once listening
	clock core.Clock               // replaces the system clock
	store func(*postgres.Store)    // told the store once open
	api   func(*api.API, *api.Mux) // told the REST API and the /api/v1 routes once registered
	acker func(paging.Acker)       // told the paging service (the providers' callbacks call it)
}

// run starts the parts of opsbot that m selects and blocks until ctx ends:
// config → stores → domain modules → chat platforms → processes.
func run(ctx context.Context, cfg *configs.Config, logger *slog.Logger, m mode, h *hooks) error {
	if h == nil {
		h = &hooks{}
	}
	a := &process{cfg: cfg, log: logger, clock: core.SystemClock{}, metrics: server.NewMetrics()}
	if h.clock != nil {
		a.clock = h.clock
	}
	var err error
	if a.store, err = openStore(ctx, cfg, logger); err != nil {
		return err
	}
	defer a.store.Close()
	if h.store != nil {
		h.store(a.store)
	}
	if m.http && m.worker && cfg.Database.MigrateOnStartOr() {
		if err := a.store.Migrate(ctx); err != nil {
			return err
		}
	}
	r := cfg.Redis
	if a.rdb, err = redis.Connect(ctx, redis.Options{Mode: r.Mode, URL: r.URL, MasterName: r.MasterName, Addrs: r.Addrs,
		Username: r.Username, Password: r.Password, SentinelPassword: r.SentinelPassword, DB: r.DB,
		TLS: r.TLS, TLSCAFile: r.TLSCAFile}); err != nil {
		return err
	}
	defer a.rdb.Close()
	a.queue = tasks.NewQueue(a.rdb, cfg.Worker.Queue, logger)
	defer a.queue.Close()
	a.store.OnOutbox(a.queue.Kick)
	a.store.OnTimers(a.queue.KickTimers)
	shared := redis.NewShared(a.rdb)
	// Org rows read on every command are cached per replica while the org
	// version in Redis stands; each committed org change bumps it.
	a.store.CacheOrg(shared.OrgVersion)
	a.store.OnOrgChange(func(ctx context.Context) {
		if err := shared.BumpOrgVersion(ctx); err != nil {
			logger.Error("org changed but other replicas may not see it for up to a minute", "err", err)
		}
	})

	if a.dom, err = domains(ctx, cfg, a.store, a.clock, shared, logger); err != nil {
		return err
	}
	if h.acker != nil {
		h.acker(a.dom.pager)
	}
	webURL := cfg.Webchat.PublicURL
	if webURL == "" {
		webURL = "http://" + cfg.Server.Listen
		if cfg.Server.TLSCert != "" {
			webURL = "https://" + cfg.Server.Listen
		}
	}
	sessions := access.NewSessions(a.store.Sessions(), a.clock, access.SessionPolicy{Idle: cfg.Auth.SessionIdle.D(), Absolute: cfg.Auth.SessionAbsolute.D()})
	a.bot = bot.New(bot.Config{Language: cfg.Bot.Language, Location: cfg.Bot.Location(), Clock: a.clock,
		WebchatURL: webURL, ConsoleURL: consoleURL(cfg), SessionTTL: cfg.Webchat.SessionTTL.D(), Sessions: sessions},
		a.dom.orgs, logger, bot.Hooks{Command: a.metrics.Command, Scope: a.store.OrgScope}, a.dom.plugs...)
	if a.plat, err = platforms(cfg, a.store, a.rdb, a.bot, a.dom.orgs, a.dom.tokens, a.dom.channels, sessions, a.clock, logger); err != nil {
		return err
	}
	defer a.plat.wait() // acknowledged platform requests finish before the store closes
	a.deliverer = tasks.NewDeliverer(tasks.DeliveryConfig{
		Platforms: cfg.Delivery.Platforms, RetryBase: cfg.Delivery.RetryBase.D(), RetryMax: cfg.Delivery.RetryMax.D(),
		MaxAttempts: cfg.Delivery.MaxAttempts, Channels: a.plat.channels,
	}, a.store.Outbox(), a.bot, a.plat.senders, a.dom.orgs.Addresses, a.queue, logger, a.metrics.Delivery)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.reloadCalendar(gctx) })
	if m.http {
		// The alert batcher outlives the HTTP server's graceful shutdown.
		bctx, bcancel := context.WithCancel(context.WithoutCancel(ctx))
		defer bcancel()
		if err := a.serve(bctx, gctx, g, h.ready, h.api); err != nil {
			return err
		}
	}
	if m.worker {
		a.work(gctx, g)
	}
	if m.scheduler {
		a.schedule(gctx, g)
	}
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// consoleURL is the address chat cards link the console at:
// console.public_url (whose default is webchat.public_url); "" (no links)
// when neither is set or the console is off.
func consoleURL(cfg *configs.Config) string {
	if !cfg.Console.EnabledOr() {
		return ""
	}
	return cfg.Console.PublicURL
}
