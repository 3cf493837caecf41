package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"opsbot/adapters/api"
	"opsbot/adapters/console"
	"opsbot/adapters/ical"
	"opsbot/adapters/pageack"
	"opsbot/adapters/server"
	"opsbot/alerts"
	"opsbot/bot"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/storage/postgres"
	"opsbot/tasks"
)

// process is one opsbot process's parts, wired; serve, work and schedule run
// the HTTP side, the worker and the scheduler.
type process struct {
	cfg       *configs.Config
	log       *slog.Logger
	clock     core.Clock
	store     *postgres.Store
	rdb       goredis.UniversalClient
	queue     *tasks.Queue
	metrics   *server.Metrics
	dom       domainSet
	bot       *bot.Bot
	plat      *platformSet
	deliverer *tasks.Deliverer
}

// reloadCalendar brings calendar overrides set on another replica to this
// one within 30 s.
func (a *process) reloadCalendar(ctx context.Context) error {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := a.dom.calendars.LoadOverrides(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("calendar overrides not reloaded; next try in 30s", "err", err)
			}
		}
	}
}

// serve bootstraps the org, then serves every HTTP route in g until gctx
// ends; apiReady (when set) is told the REST API and its routes. ctx outlives the server's graceful shutdown (the alert batcher
// keeps running until run returns).
func (a *process) serve(ctx, gctx context.Context, g *errgroup.Group, ready func(addr string), apiReady func(*api.API, *api.Mux)) error {
	cfg := a.cfg
	boot := cfg.Bootstrap.Admin
	if _, err := a.dom.orgs.Bootstrap(ctx, boot.User, boot.Name, boot.Unit, boot.UnitName); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if cfg.Demo.Enabled {
		if err := a.dom.orgs.LoadDemo(ctx); err != nil {
			return fmt.Errorf("demo org: %w", err)
		}
	}
	if n, err := a.dom.duties.SeedDuties(ctx); err != nil {
		return fmt.Errorf("recurring duties: %w", err)
	} else if n > 0 {
		a.log.Info("recurring duties seeded", "count", n)
	}
	users, tokens := serviceUsers(cfg)
	if err := a.dom.orgs.EnsureServiceUsers(ctx, users); err != nil {
		return fmt.Errorf("service users: %w", err)
	}
	if err := a.dom.tokens.EnsureConfigured(ctx, tokens); err != nil {
		return fmt.Errorf("service tokens: %w", err)
	}
	srv := server.New(a.metrics, []server.Check{
		{Name: "postgres", Fn: a.store.Ping},
		{Name: "redis", Fn: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() }},
	}, a.log)
	if err := a.deployServer(srv); err != nil {
		return err
	}
	if cfg.Webchat.Enabled {
		a.plat.webchat.Routes(srv.Mux)
	}
	a.plat.signin.Routes(srv.Mux)
	lang := cfg.Bot.Language
	ical.New(ical.Config{Text: func(k string, kv ...string) string { return bot.T(lang, k, kv...) }}, a.dom.feeds, a.log).Routes(srv.Mux)
	pageack.New(pageack.Config{Text: bot.AckPageText, Explain: a.bot.ErrorIn}, a.dom.pager, a.log).Routes(srv.Mux)
	callbacks, err := pagingCallbacks(cfg, a.dom.pager, a.log)
	if err != nil {
		return err
	}
	srv.Mux.Handle("/paging/callback/", callbacks)
	if a.plat.wecom != nil {
		a.plat.wecom.Routes(srv.Mux)
	}
	if a.plat.slack != nil {
		a.plat.slack.Routes(srv.Mux)
		g.Go(func() error { return a.plat.slack.Run(gctx) }) // returns at once unless socket_mode
	}
	receivers := make([]alerts.Receiver, len(cfg.Alerts.Receivers))
	for i, r := range cfg.Alerts.Receivers {
		receivers[i] = alerts.Receiver{Name: r.Name, BearerToken: r.BearerToken, Username: r.Username, Password: r.Password}
	}
	explain := func(err error) string { return a.bot.ErrorReply(err, nil).Text }
	mux := api.NewMux(srv.Mux)
	// The same Guard as the web chat: API tokens, service tokens, session
	// cookies (with CSRF); in dev mode also X-Opsbot-User.
	v1, err := api.New(api.Config{Auth: a.plat.guard, DevMode: cfg.Webchat.DevMode, Explain: explain, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Profiles: a.dom.orgs, Incidents: a.dom.incidents, Tickets: a.dom.tickets, Approvals: a.dom.approvals,
		Duty: a.dom.rotations, Inspections: a.dom.inspects, Backups: a.dom.backups, Reports: a.dom.reports,
		Audit: a.dom.orgs, Org: a.dom.orgs, BackupsToken: cfg.Backups.Token}, a.log)
	if err != nil {
		return err
	}
	v1.Routes(mux)
	if apiReady != nil {
		apiReady(v1, mux)
	}
	if cfg.Console.EnabledOr() {
		if err := a.consoleRoutes(srv, explain); err != nil {
			return err
		}
	}
	// Webhooks share transactions under load: a partition of group keys
	// per core, batches of up to 32 (measured best of 1–16 partitions ×
	// 1–64 on 2 cores: make bench).
	batcher := alerts.NewBatcher(a.dom.alerts, max(2, runtime.GOMAXPROCS(0)), 32)
	batcher.OnRetry(func(outcome string) { a.metrics.Retry("alert_ingest", outcome) })
	alerts.New(alerts.Config{Receivers: receivers, MaxBodyBytes: cfg.Alerts.MaxBodyBytes, MaxInFlight: cfg.Alerts.MaxInFlight,
		OnBusy: func() { a.metrics.Busy("alert_ingest") }}, batcher, a.log).Routes(srv.Mux)
	g.Go(func() error { return srv.Serve(gctx, cfg.Server.Listen, cfg.Server.ShutdownTimeout.D(), ready) })
	return nil
}

// work runs the asynq worker in g: deliveries, the sweep, and every
// module's timers and jobs.
func (a *process) work(gctx context.Context, g *errgroup.Group) {
	w := tasks.NewWorker(a.rdb, tasks.WorkerConfig{Queue: a.cfg.Worker.Queue, Concurrency: a.cfg.Worker.Concurrency,
		ShutdownTimeout: a.cfg.Server.ShutdownTimeout.D()}, a.log, a.metrics.Task)
	w.Handle(tasks.TypeNotifyDeliver, a.deliverer.HandleDeliver)
	w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error {
		n, err := a.deliverer.Sweep(ctx)
		if err != nil {
			return err
		}
		if a.plat.wecom != nil {
			if err := a.plat.wecom.Flush(ctx); err != nil {
				a.log.Warn("wecom: releasing held messages failed; next sweep retries", "err", err)
			}
		}
		t, err := tasks.SweepTimers(ctx, a.store.Timers(), a.queue, a.clock.Now())
		if n+t > 0 {
			a.log.Info("sweep re-enqueued due work", "notices", n, "timers", t)
		}
		return err
	})
	for kind, fn := range a.bot.Timers() {
		w.Handle(kind, tasks.TimerHandler(fn, a.log))
	}
	for _, j := range a.bot.Jobs() {
		w.Handle(j.Type, tasks.JobHandler(j))
	}
	g.Go(func() error { return w.Run(gctx) })
}

// schedule runs the scheduler in g: the sweep and every module's jobs.
func (a *process) schedule(gctx context.Context, g *errgroup.Group) {
	entries := append([]tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: a.cfg.Scheduler.SweepInterval.D()}},
		tasks.JobEntries(a.bot.Jobs(), a.cfg.Bot.Location(), a.clock.Now)...)
	s := tasks.NewScheduler(a.queue, entries, time.Now, a.log)
	g.Go(func() error { return s.Run(gctx) })
}

// deployServer applies the production keys of server (TLS, trusted
// proxies) to srv and exports the outbox and timer backlog on /metrics.
func (a *process) deployServer(srv *server.Server) error {
	if a.cfg.Server.TLSCert != "" {
		srv.UseTLS(a.cfg.Server.TLSCert, a.cfg.Server.TLSKey)
	}
	nets, err := a.cfg.Server.TrustedNets()
	if err != nil {
		return err
	}
	srv.TrustProxies(nets)
	if a.cfg.Server.Pprof {
		srv.ServePprof()
	}
	outbox, timers := a.store.Outbox(), a.store.Timers()
	a.metrics.WatchBacklog(outbox.Pending, func(ctx context.Context) (time.Duration, error) {
		now := a.clock.Now()
		due, err := timers.Due(ctx, now, 1)
		if err != nil || len(due) == 0 {
			return 0, err
		}
		return now.Sub(due[0].DueAt), nil
	})
	return nil
}

// consoleRoutes serves the web console /console/ on srv: the same Guard
// as the web chat and the API, the same core services.
func (a *process) consoleRoutes(srv *server.Server, explain func(error) string) error {
	cfg := a.cfg
	con, err := console.New(console.Config{Language: cfg.Bot.Language, Refresh: cfg.Console.Refresh.D(),
		PublicURL: cfg.Console.PublicURL, Location: cfg.Bot.Location()},
		console.Services{Auth: a.plat.guard, Views: a.dom.orgs, Explain: explain, Clock: a.clock,
			Incidents: a.dom.incidents, Tickets: a.dom.tickets,
			Overview: a.dom.overview, Duty: a.dom.schedule, Feeds: a.dom.feeds, Reports: a.dom.reports,
			Trends: a.dom.trends, AuditLog: a.dom.orgs, AuditChain: a.dom.audits,
			Approvals: a.dom.approvals, TicketDetails: a.dom.tickets, People: a.bot.Person, Event: a.bot.EventBody}, a.log)
	if err != nil {
		return err
	}
	con.Routes(srv.Mux)
	return nil
}
