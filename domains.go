package main

import (
	"cmp"
	"context"
	"log/slog"

	"opsbot/adapters/pageack"
	"opsbot/alerts"
	"opsbot/bot"
	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/access"
	"opsbot/core/alert"
	"opsbot/core/approval"
	"opsbot/core/audit"
	"opsbot/core/backup"
	"opsbot/core/calendar"
	"opsbot/core/delivery"
	"opsbot/core/digest"
	"opsbot/core/duty"
	"opsbot/core/dutytask"
	"opsbot/core/emergency"
	"opsbot/core/incident"
	"opsbot/core/inspect"
	"opsbot/core/monthly"
	"opsbot/core/org"
	"opsbot/core/overview"
	"opsbot/core/paging"
	"opsbot/core/problem"
	"opsbot/core/report"
	"opsbot/core/ticket"
	"opsbot/core/trend"
	"opsbot/storage/postgres"
)

// domainSet is the core services built from the config, as bot modules,
// and the few services the HTTP side and the process loops use directly.
type domainSet struct {
	orgs      *org.Service
	calendars *calendar.Service
	backups   *backup.Service
	alerts    *alert.Service
	channels  *org.Channels
	tokens    *access.TokenService
	plugs     []bot.Plug
	// The services the REST API calls besides (the chat reaches them
	// through plugs).
	incidents *incident.Service
	tickets   *ticket.Service
	approvals *approval.Service
	rotations *duty.Service
	feeds     *duty.Feeds    // iCal feeds of duty shifts (/ical/{secret}.ics)
	schedule  *duty.Schedule // the console's duty calendar
	inspects  *inspect.Service
	problems  *problem.Service
	overview  *overview.Service // the console's overview
	// reports are the periodic reports per view (chat, API, console).
	reports *report.Service
	audits  *audit.Service    // the console's audit page
	trends  *trend.Service    // the console's trends page
	duties  *dutytask.Service // recurring duties, seeded at start
	pager   *paging.Service   // pages beyond chat; its acknowledge links (/page/ack/)
}

// domains builds every core service on store and the module of each;
// limit spaces each API token's requests across replicas.
func domains(ctx context.Context, cfg *configs.Config, store *postgres.Store, clock core.Clock, limit access.Limiter, logger *slog.Logger) (domainSet, error) {
	hours, _ := cfg.Calendar.Periods() // validated at load
	cal := calendar.New(cfg.Bot.Location(), hours)
	rule, _ := calendar.ParsePeriodRule(cfg.Calendar.PeriodRule) // validated at load
	cal.SetPeriodRule(rule)
	if err := configs.LoadPRCHolidays(cal); err != nil {
		return domainSet{}, err
	}
	calendars := calendar.NewService(store.Calendar(), cal, clock)
	if err := calendars.LoadOverrides(ctx); err != nil {
		logger.Warn("calendar overrides not loaded", "err", err)
	}
	tickets := ticket.NewService(store.Tickets(), clock, cal)
	calendars.OnChange(tickets.Recompute)                 // loading a year's schedule moves open deadlines
	dayStart, dayEnd, _ := cfg.Approvals.DaytimeMinutes() // validated at load
	approvals := approval.NewService(store.Approvals(), clock, cal, approval.Config{
		RemindEvery: cfg.Approvals.RemindEvery.D(), Channel: cfg.Approvals.Channel,
		Daytime: calendar.Period{Start: dayStart, End: dayEnd},
	})
	policy, _ := cfg.Incidents.Policy() // validated at load
	rp := cfg.Emergency.ReportPath
	reportPath := emergency.Path{Channels: rp.Channels, Users: rp.Users, Roles: rp.Roles}
	rotations := duty.NewService(store.Duty(), clock, cal)
	pagerRef := &latePager{}
	incidents := incident.NewService(store.Incidents(), clock, cal, incident.Config{
		Channel: cfg.Incidents.Channel, Rotation: cfg.Incidents.Rotation, Policy: policy,
	}, incident.Deps{Roster: rotations, Coverer: rotations, Problems: problem.NewProposer(clock, cfg.Incidents.Channel),
		Major:   problem.NewProposer(clock, cfg.Incidents.Channel).WithMajor(cal, cfg.Incidents.ProblemDueDays),
		Watcher: emergency.NewReporter(clock, reportPath), Pager: pagerRef})
	pagingRules, _ := cfg.Paging.RulesByLevel() // validated at load
	providers, err := pagingProviders(cfg)
	if err != nil {
		return domainSet{}, err
	}
	pager := paging.NewService(store.Paging(), clock, paging.Config{Rules: pagingRules, MaxPerHour: cfg.Paging.MaxPerHour,
		AckURL: feedBase(cfg) + pageack.Path, Location: cfg.Bot.Location()},
		paging.Deps{Providers: providers, Acks: incidentAcks{incidents}, Timeline: incidentTimeline{incidents},
			Texts: bot.PageTexts{Language: cfg.Bot.Language}})
	pagerRef.svc = pager
	for level := 1; level <= 4; level++ {
		for _, r := range pager.Rules(level) {
			if r.Method != paging.MethodChat && !pager.Sends(r.Method) {
				logger.Warn("paging: no provider sends a method a level's chain uses; that step pages nobody (/duty policy marks it)",
					"level", level, "method", r.Method)
			}
		}
	}
	handovers := duty.NewHandovers(store.Handovers(), clock, cal, incidents)
	feeds := duty.NewFeeds(store.Feeds(), clock, cal, duty.FeedConfig{})
	problems := problem.NewService(store.Problems(), clock, cal, incidents)
	approvals.SetProblems(problemTitles{problems}) // a change links to the problem it fixes (W 8.5/8.6)
	routes := make([]alert.Route, len(cfg.Alerts.Routes))
	for i, r := range cfg.Alerts.Routes {
		routes[i] = alert.Route{Match: r.Match, Rotation: r.Rotation, Channel: r.Channel, Unit: r.Unit}
	}
	alertSvc := alert.NewService(store.Alerts(), clock, cal, alert.Config{
		SeverityLevels: cfg.Alerts.SeverityLevels, LevelLabel: cfg.Alerts.LevelLabel, Routes: routes,
		ReopenWindow: cfg.Alerts.ReopenWindow.D(), UpdateEvery: cfg.Alerts.UpdateEvery.D(),
		HTTPKindLabel: cfg.Alerts.HTTPKindLabel, HTTPKindValue: cfg.Alerts.HTTPKindValue, AppLabel: cfg.Alerts.AppLabel,
		Non200After: cfg.Alerts.Non200After.D(), Slow: cfg.Alerts.Slow, SlowAfter: cfg.Alerts.SlowAfter.D(),
	}, incidents)
	incidents.SetAlerts(alertSvc) // a refreshed alert incident card keeps its group and silence buttons
	var silencer bot.Silencer
	if cfg.Alerts.AlertmanagerURL != "" {
		silencer = alerts.NewSilencer(alertSvc, alerts.NewClient(cfg.Alerts.AlertmanagerURL, nil), cfg.Bot.Location(), clock)
	}
	backups := backup.NewService(store.Backups(), clock, cal, incidents, backup.Config{
		Grace: cfg.Backups.Grace.D(), FailLevel: cfg.Backups.FailLevel, VerifyDay: cfg.Backups.VerifyDay, Lead: cfg.Backups.Lead,
	})
	inspections := inspect.NewService(store.Inspections(), clock, cal, incidents, inspect.Config{
		Grace: cfg.Inspections.Grace.D(), IssueLevel: cfg.Inspections.IssueLevel, Channel: cfg.Inspections.Channel,
	})
	orgs := org.NewService(store.Org(), clock)
	reports := report.NewService(report.Deps{Views: orgs, Incidents: problems, Inspections: inspections, Backups: backups,
		Tickets: tickets, Approvals: approvals})
	rules := make([]org.ChannelRule, len(cfg.Channels))
	for i, c := range cfg.Channels {
		rules[i] = org.ChannelRule{Name: c.Name, Members: c.Members}
		for _, r := range c.Roles {
			rules[i].Roles = append(rules[i].Roles, org.Role(r))
		}
	}
	channels := org.NewChannels(store.Channels(), clock, rules)
	if err := store.CheckAuditKey(ctx); err != nil {
		return domainSet{}, err
	}
	audits, err := auditService(cfg, store, clock)
	if err != nil {
		return domainSet{}, err
	}
	duties := dutytask.NewService(store.DutyTasks(), clock, cal)
	t := cfg.API.Tokens
	tokens := access.NewTokenService(store.Tokens(), clock, limit, access.TokenConfig{DefaultTTL: t.DefaultTTL.D(), MaxTTL: t.MaxTTL.D(),
		PerMinute: t.RatePerMinute, Burst: t.Burst, RateKey: cfg.Worker.Queue + ":token-rate:"})
	return domainSet{
		orgs: orgs, reports: reports, calendars: calendars, backups: backups, alerts: alertSvc, channels: channels,
		incidents: incidents, tickets: tickets, approvals: approvals,
		tokens: tokens, duties: duties, pager: pager,
		rotations: rotations, feeds: feeds, schedule: duty.NewSchedule(store.Schedule(), clock, cal), inspects: inspections, problems: problems,
		overview: overview.NewService(store.Overview(), clock, cal),
		audits:   audits, trends: trend.NewService(store.Trends(), clock, cfg.Bot.Location()),
		plugs: []bot.Plug{
			bot.Channels(channels),
			bot.Approvals(approvals), bot.Incidents(incidents), bot.Duty(rotations, handovers, cfg.Scheduler.SweepInterval.D()),
			bot.Problems(problems, reports), bot.Alerts(alertSvc, silencer),
			bot.Tickets(tickets),
			bot.Inspections(inspections, reports), bot.Backups(backups), bot.Calendar(calendars),
			bot.Delivery(delivery.NewService(store.Delivery(), clock)),
			bot.Digests(digest.NewService(store.Digests(), clock, cal), cfg.Digest.At),
			bot.Monthly(monthly.NewService(store.Monthly(), reports, clock, cal, monthly.Options{DueDays: cfg.Reports.ActionDays}), cfg.Reports.At),
			bot.Audit(audits, cfg.Audit.CheckpointEvery.D()),
			bot.Tokens(tokens),
			bot.DutyFeeds(feeds, feedBase(cfg)),
			bot.Emergency(emergency.NewService(store.Emergency(), clock, cfg.Bot.Location(), reportPath)),
			bot.DutyTasks(duties),
			bot.Paging(pager),
		},
	}, nil
}

// serviceUsers turns the config's service users (api.service_users, and
// those of webchat.token and backups.token) into the org's and their
// configured tokens.
func serviceUsers(cfg *configs.Config) ([]org.ServiceUser, []access.ConfiguredToken) {
	var users []org.ServiceUser
	var tokens []access.ConfiguredToken
	roles := func(rs []configs.ServiceRole) []org.Grant {
		out := make([]org.Grant, len(rs))
		for i, r := range rs {
			out[i] = org.Grant{Role: org.Role(r.Role), Scope: r.Scope}
		}
		return out
	}
	for _, u := range cfg.API.ServiceUsers {
		users = append(users, org.ServiceUser{ID: u.ID, Name: u.Name, Unit: u.Unit, Roles: roles(u.Roles)})
		if u.Token != "" || u.TokenSHA256 != "" {
			tokens = append(tokens, access.ConfiguredToken{UserID: u.ID, Secret: u.Token, SHA256: u.TokenSHA256, Scope: u.Scope})
		}
	}
	if cfg.Webchat.Token != "" {
		id := cmp.Or(cfg.Webchat.ServiceUser, "svc-webchat")
		users = append(users, org.ServiceUser{ID: id, Name: "web chat integration (webchat.token)", Roles: roles(cfg.Webchat.ServiceRoles)})
		tokens = append(tokens, access.ConfiguredToken{UserID: id, Secret: cfg.Webchat.Token})
	}
	if cfg.Backups.Token != "" {
		users = append(users, org.ServiceUser{ID: configs.BackupServiceUser, Name: "backup scripts (backups.token)",
			Roles: []org.Grant{{Role: org.RoleOperator}}})
		tokens = append(tokens, access.ConfiguredToken{UserID: configs.BackupServiceUser, Secret: cfg.Backups.Token})
	}
	return users, tokens
}

// feedBase is the public address in iCal feed URLs: console.public_url,
// else webchat.public_url, else the listen address.
func feedBase(cfg *configs.Config) string {
	if u := cmp.Or(cfg.Console.PublicURL, cfg.Webchat.PublicURL); u != "" {
		return u
	}
	if cfg.Server.TLSCert != "" {
		return "https://" + cfg.Server.Listen
	}
	return "http://" + cfg.Server.Listen
}

// problemTitles is the problem library as the approval engine sees it: a
// problem's title, or its not-found error.
type problemTitles struct{ svc *problem.Service }

// ProblemTitle returns problem id's title, as actor may see it.
func (p problemTitles) ProblemTitle(ctx context.Context, actor core.Actor, id int64) (string, error) {
	d, err := p.svc.Show(ctx, actor, id)
	return d.Problem.Title, err
}
