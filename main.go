// Command opsbot is a chat-ops bot for government IT operations teams.
//
//	opsbot [all]          HTTP server + worker + scheduler in one process
//	opsbot serve          HTTP only
//	opsbot worker         asynq task handlers only
//	opsbot scheduler      periodic task scheduler only
//	opsbot migrate        apply database migrations and exit
//	opsbot audit verify   check the audit hash chain
//
// Every subcommand takes --config FILE (or $OPSBOT_CONFIG; configs/dev.yaml
// or its embedded copy when neither is given). main.go only wires.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"opsbot/adapters/api"
	"opsbot/adapters/server"
	"opsbot/adapters/slack"
	"opsbot/adapters/webchat"
	"opsbot/adapters/wecom"
	"opsbot/alerts"
	"opsbot/bot"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/alert"
	"opsbot/core/approval"
	"opsbot/core/backup"
	"opsbot/core/calendar"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/org"
	"opsbot/core/problem"
	"opsbot/core/ticket"
	"opsbot/storage/postgres"
	"opsbot/storage/redis"
	"opsbot/tasks"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

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

// hooks lets tests reach inside a running app.
type hooks struct {
	ready func(addr string)     // told the HTTP address once listening
	clock core.Clock            // replaces the system clock
	store func(*postgres.Store) // told the store once open
}

// run starts the parts of opsbot that m selects and blocks until ctx ends.
func run(ctx context.Context, cfg *configs.Config, logger *slog.Logger, m mode, h *hooks) error {
	if h == nil {
		h = &hooks{}
	}
	var clock core.Clock = core.SystemClock{}
	if h.clock != nil {
		clock = h.clock
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if h.store != nil {
		h.store(store)
	}
	if m.http && m.worker && cfg.Database.MigrateOnStartOr() {
		if err := store.Migrate(ctx); err != nil {
			return err
		}
	}
	rdb, err := redis.Open(ctx, cfg.Redis.URL)
	if err != nil {
		return err
	}
	defer rdb.Close()

	metrics := server.NewMetrics()
	orgs := org.NewService(store.Org(), clock)
	queue := tasks.NewQueue(rdb, cfg.Worker.Queue, logger)
	defer queue.Close()
	store.OnOutbox(queue.Kick)
	store.OnTimers(queue.KickTimers)

	hours, _ := cfg.Calendar.Periods() // validated at load
	cal := calendar.New(cfg.Bot.Location(), hours)
	if err := configs.LoadPRCHolidays(cal); err != nil {
		return err
	}
	calendars := calendar.NewService(store.Calendar(), cal, clock)
	if err := calendars.LoadOverrides(ctx); err != nil {
		logger.Warn("calendar overrides not loaded", "err", err)
	}
	dayStart, dayEnd, _ := cfg.Approvals.DaytimeMinutes() // validated at load
	approvals := approval.NewService(store.Approvals(), clock, cal, approval.Config{
		RemindEvery: cfg.Approvals.RemindEvery.D(), Channel: cfg.Approvals.Channel,
		Daytime: calendar.Period{Start: dayStart, End: dayEnd},
	})
	policy, _ := cfg.Incidents.Policy() // validated at load
	rotations := duty.NewService(store.Duty(), clock, cal)
	incidents := incident.NewService(store.Incidents(), clock, cal, incident.Config{
		Channel: cfg.Incidents.Channel, Rotation: cfg.Incidents.Rotation, Policy: policy,
	}, incident.Deps{Roster: rotations, Coverer: rotations, Problems: problem.NewProposer(clock, cfg.Incidents.Channel)})
	handovers := duty.NewHandovers(store.Handovers(), clock, cal, incidents)
	problems := problem.NewService(store.Problems(), clock, cal, incidents)
	routes := make([]alert.Route, len(cfg.Alerts.Routes))
	for i, r := range cfg.Alerts.Routes {
		routes[i] = alert.Route{Match: r.Match, Rotation: r.Rotation, Channel: r.Channel, Unit: r.Unit}
	}
	alertSvc := alert.NewService(store.Alerts(), clock, cal, alert.Config{
		SeverityLevels: cfg.Alerts.SeverityLevels, LevelLabel: cfg.Alerts.LevelLabel, Routes: routes,
		ReopenWindow: cfg.Alerts.ReopenWindow.D(), UpdateEvery: cfg.Alerts.UpdateEvery.D(),
		HTTPKindLabel: cfg.Alerts.HTTPKindLabel, HTTPKindValue: cfg.Alerts.HTTPKindValue, AppLabel: cfg.Alerts.AppLabel,
		Non200After: cfg.Alerts.Non200After.D(),
	}, incidents)
	tickets := ticket.NewService(store.Tickets(), clock, cal)
	digests := digest.NewService(store.Digests(), clock, cal)
	backups := backup.NewService(store.Backups(), clock, cal, incidents, backup.Config{
		Grace: cfg.Backups.Grace.D(), FailLevel: cfg.Backups.FailLevel, VerifyDay: cfg.Backups.VerifyDay, Lead: cfg.Backups.Lead,
	})
	inspections := inspect.NewService(store.Inspections(), clock, cal, incidents, inspect.Config{
		Grace: cfg.Inspections.Grace.D(), IssueLevel: cfg.Inspections.IssueLevel, Channel: cfg.Inspections.Channel,
	})
	var silencer bot.Silencer
	if cfg.Alerts.AlertmanagerURL != "" {
		silencer = alerts.NewSilencer(alertSvc, incidents, alerts.NewClient(cfg.Alerts.AlertmanagerURL, nil), cfg.Bot.Location(), clock)
	}
	webURL := cfg.Webchat.PublicURL
	if webURL == "" {
		webURL = "http://" + cfg.Server.Listen
	}
	b := bot.New(bot.Config{Language: cfg.Bot.Language, Location: cfg.Bot.Location(), Clock: clock,
		WebchatURL: webURL, SessionTTL: cfg.Webchat.SessionTTL.D()},
		orgs, logger, bot.Hooks{Command: metrics.Command},
		bot.Approvals(approvals), bot.Incidents(incidents), bot.Duty(rotations, handovers, cfg.Scheduler.SweepInterval.D()),
		bot.Problems(problems), bot.Alerts(alertSvc, silencer), bot.Tickets(tickets),
		bot.Inspections(inspections), bot.Backups(backups), bot.Calendar(calendars), bot.Digests(digests, cfg.Digest.At))
	wc := webchat.New(webchat.Config{DevMode: cfg.Webchat.DevMode, Token: cfg.Webchat.Token, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Sessions: orgs.WebTokenUser},
		store.Webchat(), b, directory(orgs), logger)

	var senders []bot.Sender
	channels := map[string]map[string]string{}
	address := func(channel, platform, addr string) {
		if channels[channel] == nil {
			channels[channel] = map[string]string{}
		}
		channels[channel][platform] = addr
	}
	if cfg.Webchat.Enabled {
		senders = append(senders, wc)
		for _, c := range cfg.Channels {
			address(c.Name, core.PlatformWebchat, c.Name)
		}
	}
	var wcom *wecom.Adapter
	if cfg.WeCom.Enabled {
		wcom, err = wecom.New(wecom.Config{
			CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID, Secret: cfg.WeCom.Secret,
			ContactsSecret: cfg.WeCom.ContactsSecret, Token: cfg.WeCom.Token, EncodingAESKey: cfg.WeCom.EncodingAESKey,
			APIBase: cfg.WeCom.APIBase, PerMemberMinute: cfg.WeCom.Limits.PerMemberMinute,
			PerMemberHour: cfg.WeCom.Limits.PerMemberHour, RobotPerMinute: cfg.WeCom.Limits.RobotPerMinute,
			MaxBodyBytes: cfg.Server.MaxBodyBytes,
			DoneLabel:    bot.T(cfg.Bot.Language, "wecom.done"), ButtonHint: bot.T(cfg.Bot.Language, "wecom.button_hint"),
		}, b, store.PlatformMessages(), redis.NewShared(rdb), logger)
		if err != nil {
			return err
		}
		defer wcom.Wait() // acknowledged callbacks finish before the store closes
		senders = append(senders, wcom)
		for _, c := range cfg.Channels {
			if c.WeCom != "" {
				address(c.Name, core.PlatformWeCom, c.WeCom)
			}
		}
		b.SetOrgSync(core.PlatformWeCom, bot.NewOrgSyncer(org.NewSyncer(core.PlatformWeCom, wcom.Contacts(), orgs, org.SyncOptions{})))
	}
	var sl *slack.Adapter
	if cfg.Slack.Enabled {
		slackChannels := map[string]string{}
		for _, c := range cfg.Channels {
			if c.Slack != "" {
				slackChannels[c.Name] = c.Slack
				address(c.Name, core.PlatformSlack, c.Slack)
			}
		}
		sl, err = slack.New(slack.Config{
			BotToken: cfg.Slack.BotToken, SigningSecret: cfg.Slack.SigningSecret, AppToken: cfg.Slack.AppToken,
			SocketMode: cfg.Slack.SocketMode, APIURL: cfg.Slack.APIURL, ReasonActions: cfg.Slack.ReasonActions,
			Channels: slackChannels, Language: cfg.Bot.Language, MaxBodyBytes: cfg.Server.MaxBodyBytes,
		}, b, store.PlatformMessages(), redis.NewShared(rdb), logger)
		if err != nil {
			return err
		}
		defer sl.Wait() // acknowledged requests finish before the store closes
		senders = append(senders, sl)
	}
	deliverer := tasks.NewDeliverer(tasks.DeliveryConfig{
		Platforms: cfg.Delivery.Platforms, RetryBase: cfg.Delivery.RetryBase.D(), RetryMax: cfg.Delivery.RetryMax.D(),
		MaxAttempts: cfg.Delivery.MaxAttempts, Channels: channels,
	}, store.Outbox(), b, senders, orgs.Addresses, queue, logger, metrics.Delivery)

	g, gctx := errgroup.WithContext(ctx)
	// Calendar overrides set on another replica reach this one within 30 s.
	g.Go(func() error {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
				if err := calendars.LoadOverrides(gctx); err != nil && gctx.Err() == nil {
					logger.Warn("calendar overrides not reloaded; next try in 30s", "err", err)
				}
			}
		}
	})
	if m.http {
		if _, err := orgs.Bootstrap(ctx, cfg.Bootstrap.Admin.User, cfg.Bootstrap.Admin.Name, cfg.Bootstrap.Admin.Unit, cfg.Bootstrap.Admin.UnitName); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if cfg.Demo.Enabled {
			if err := orgs.LoadDemo(ctx); err != nil {
				return fmt.Errorf("demo org: %w", err)
			}
		}
		for _, c := range cfg.Channels {
			for _, u := range c.Members {
				if err := wc.Join(ctx, c.Name, u); err != nil {
					return err
				}
			}
		}
		srv := server.New(metrics, []server.Check{
			{Name: "postgres", Fn: store.Ping},
			{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		}, logger)
		if cfg.Webchat.Enabled {
			wc.Routes(srv.Mux)
		}
		if wcom != nil {
			wcom.Routes(srv.Mux)
		}
		if sl != nil {
			sl.Routes(srv.Mux)
			g.Go(func() error { return sl.Run(gctx) }) // returns at once unless socket_mode
		}
		receivers := make([]alerts.Receiver, len(cfg.Alerts.Receivers))
		for i, r := range cfg.Alerts.Receivers {
			receivers[i] = alerts.Receiver{Name: r.Name, BearerToken: r.BearerToken, Username: r.Username, Password: r.Password}
		}
		api.NewBackups(cfg.Backups.Token, backups, func(err error) string { return b.ErrorReply(err, nil).Text },
			cfg.Server.MaxBodyBytes, logger).Routes(srv.Mux)
		// Webhooks share transactions under load; the batcher outlives the
		// HTTP server's graceful shutdown (it stops when run returns).
		batcher := alerts.NewBatcher(alertSvc, 4, 16) // measured best of 2–8 workers × 16–64 (make bench)
		bctx, bcancel := context.WithCancel(context.WithoutCancel(ctx))
		defer bcancel()
		batcher.Start(bctx)
		alerts.New(alerts.Config{Receivers: receivers, MaxBodyBytes: cfg.Alerts.MaxBodyBytes}, batcher, logger).Routes(srv.Mux)
		g.Go(func() error { return srv.Serve(gctx, cfg.Server.Listen, cfg.Server.ShutdownTimeout.D(), h.ready) })
	}
	if m.worker {
		w := tasks.NewWorker(rdb, tasks.WorkerConfig{Queue: cfg.Worker.Queue, Concurrency: cfg.Worker.Concurrency,
			ShutdownTimeout: cfg.Server.ShutdownTimeout.D()}, logger, metrics.Task)
		w.Handle(tasks.TypeNotifyDeliver, deliverer.HandleDeliver)
		w.Handle(tasks.TypeTimersSweep, func(ctx context.Context, _ *asynq.Task) error {
			n, err := deliverer.Sweep(ctx)
			if err != nil {
				return err
			}
			if wcom != nil {
				if err := wcom.Flush(ctx); err != nil {
					logger.Warn("wecom: releasing held messages failed; next sweep retries", "err", err)
				}
			}
			t, err := tasks.SweepTimers(ctx, store.Timers(), queue, clock.Now())
			if n+t > 0 {
				logger.Info("sweep re-enqueued due work", "notices", n, "timers", t)
			}
			return err
		})
		for kind, fn := range b.Timers() {
			w.Handle(kind, tasks.TimerHandler(fn, logger))
		}
		for _, j := range b.Jobs() {
			w.Handle(j.Type, tasks.JobHandler(j))
		}
		g.Go(func() error { return w.Run(gctx) })
	}
	if m.scheduler {
		entries := append([]tasks.Periodic{{Type: tasks.TypeTimersSweep, Every: cfg.Scheduler.SweepInterval.D()}},
			tasks.JobEntries(b.Jobs(), cfg.Bot.Location(), clock.Now)...)
		s := tasks.NewScheduler(queue, entries, time.Now, logger)
		g.Go(func() error { return s.Run(gctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// directory lists org users for the webchat picker.
func directory(orgs *org.Service) webchat.Directory {
	return func(ctx context.Context) ([]webchat.DirectoryUser, error) {
		profiles, err := orgs.Directory(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]webchat.DirectoryUser, len(profiles))
		for i, p := range profiles {
			roles := make([]string, 0, len(p.Grants))
			for _, g := range p.Grants {
				roles = append(roles, string(g.Role)+"@"+g.Scope)
			}
			out[i] = webchat.DirectoryUser{ID: p.User.ID, Name: p.User.Name, Unit: p.Unit.Code, UnitName: p.Unit.Name, Roles: roles}
		}
		return out, nil
	}
}
