package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"log/syslog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"opsbot/configs"
	"opsbot/core"
	"opsbot/core/audit"
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

// Build stamps, set by the linker (make dist: -ldflags "-X main.version=…");
// they are the only package variables, since -X can set nothing else.
var (
	version   = "dev"
	commit    = "unknown"
	buildDate = "unknown"
)

const usage = `usage: opsbot [all|serve|worker|scheduler|migrate] [--config FILE]
       opsbot check-config [--config FILE]
       opsbot version
       opsbot probe [URL]   (default http://127.0.0.1:8080/readyz; for image health checks)
       opsbot audit verify [--checkpoint FILE]... [--config FILE]
       opsbot audit checkpoint [--config FILE]
       opsbot audit export [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--config FILE]`

func cli(args, environ []string, stdout, stderr io.Writer) int {
	sub := "all"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
		if sub == "probe" {
			return probe(args, stderr)
		}
		if sub == "version" {
			fmt.Fprintf(stdout, "opsbot %s (commit %s, built %s, %s %s/%s)\n", version, commit, buildDate, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return 0
		}
		if sub == "audit" {
			if len(args) == 0 || !slices.Contains([]string{"verify", "checkpoint", "export"}, args[0]) {
				fmt.Fprintln(stderr, usage)
				return 2
			}
			sub, args = "audit "+args[0], args[1:]
		}
	}
	fs := flag.NewFlagSet("opsbot "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (default $OPSBOT_CONFIG, then configs/dev.yaml)")
	var af auditFlags
	switch sub {
	case "audit verify":
		fs.Func("checkpoint", "a file of signed checkpoints (JSON lines) to check the chain against; may repeat", func(v string) error {
			af.checkpoints = append(af.checkpoints, v)
			return nil
		})
	case "audit export":
		fs.StringVar(&af.from, "from", "", "first day (YYYY-MM-DD, in bot.timezone)")
		fs.StringVar(&af.to, "to", "", "last day (YYYY-MM-DD, in bot.timezone)")
	}
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
	case "check-config":
		err = checkConfig(cfg, source, logger, stdout, stderr)
	case "migrate":
		err = migrate(ctx, cfg)
		if err == nil {
			fmt.Fprintln(stdout, "migrations applied")
		}
	case "audit verify", "audit checkpoint", "audit export":
		var broken bool
		broken, err = auditCommand(ctx, sub, af, cfg, logger, stdout)
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

// probe GETs the URL in args (default the local /readyz) and exits 0 on a
// 2xx answer, 1 otherwise: the health check of images without a shell.
func probe(args []string, stderr io.Writer) int {
	url := "http://127.0.0.1:8080/readyz"
	switch len(args) {
	case 0:
	case 1:
		url = args[0]
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "opsbot probe:", err)
		return 1
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "opsbot probe: %s: %s\n%s", url, resp.Status, body)
		return 1
	}
	return 0
}

// checkConfig prints the effective config (defaults, environment and
// *_file secrets applied) with secrets redacted, after the checks Load does
// and those that need files: the audit key.
func checkConfig(cfg *configs.Config, source string, logger *slog.Logger, stdout, stderr io.Writer) error {
	if _, err := loadAuditKey(cfg.Audit, logger, false); err != nil {
		if !(cfg.Audit.GenerateKey && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	red := cfg.Redacted()
	out, err := yaml.Marshal(&red)
	if err != nil {
		return fmt.Errorf("check-config: %w", err)
	}
	fmt.Fprintf(stdout, "# effective opsbot config from %s (secrets redacted)\n%s", source, out)
	fmt.Fprintf(stderr, "config ok: %s\n", source)
	return nil
}

func newLogger(c configs.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the store with the audit key; it refuses to without
// one unless audit.unkeyed says so (see loadAuditKey).
func openStore(ctx context.Context, cfg *configs.Config, logger *slog.Logger) (*postgres.Store, error) {
	key, err := loadAuditKey(cfg.Audit, logger, cfg.Audit.GenerateKey)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, cfg.Database.URL, postgres.Options{MaxConns: cfg.Database.MaxConns, AuditKey: key,
		StatementTimeout: cfg.Database.StatementTimeout.D()})
}

func migrate(ctx context.Context, cfg *configs.Config) error {
	// Migrations write no audit entries: no key needed.
	store, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{MaxConns: cfg.Database.MaxConns})
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

// auditFlags are the flags of the audit subcommands.
type auditFlags struct {
	checkpoints []string // verify: checkpoint files
	from, to    string   // export: days
}

// loadAuditKey reads the audit key from c.KeyFile. When the file is
// missing and generate is set (development), it writes a new key there
// and says so. Without a key file it refuses unless c.Unkeyed.
func loadAuditKey(c configs.Audit, logger *slog.Logger, generate bool) (*audit.Key, error) {
	if c.KeyFile == "" {
		if c.Unkeyed {
			logger.Warn("audit: running WITHOUT an audit key (audit.unkeyed): the audit chain is not tamper-evident against database admins")
			return nil, nil
		}
		return nil, errors.New("audit: audit.key_file is required (a file of 64 hex digits, e.g. `openssl rand -hex 32`; " +
			"set audit.unkeyed: true to run without tamper-evidence)")
	}
	data, err := os.ReadFile(c.KeyFile)
	if errors.Is(err, fs.ErrNotExist) && generate {
		if data, err = generateAuditKey(c.KeyFile); err == nil {
			logger.Warn("audit: generated a new audit key; keep it outside the database and back it up (it seals the audit chain)", "file", c.KeyFile)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audit: key file: %w", err)
	}
	key, err := audit.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("audit: key file %s: %w", c.KeyFile, err)
	}
	return key, nil
}

// generateAuditKey writes a new key to path (0600, never over an existing
// file: a replica that lost the race reads the winner's key).
func generateAuditKey(path string) ([]byte, error) {
	text, err := audit.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(text); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return os.ReadFile(path)
}

// auditPublishers are where checkpoints go besides the sys admins' chat.
func auditPublishers(c configs.Audit) ([]audit.Publisher, error) {
	var out []audit.Publisher
	if c.CheckpointFile != "" {
		out = append(out, audit.FileSink{Path: c.CheckpointFile})
	}
	if c.CheckpointSyslog {
		w, err := syslog.New(syslog.LOG_NOTICE|syslog.LOG_AUTH, "opsbot-audit")
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint_syslog: %w", err)
		}
		out = append(out, audit.WriterSink{W: w, Prefix: "checkpoint "})
	}
	return out, nil
}

// auditService is the audit service on store, sealing with the store's key.
func auditService(cfg *configs.Config, store *postgres.Store, clock core.Clock) (*audit.Service, error) {
	pubs, err := auditPublishers(cfg.Audit)
	if err != nil {
		return nil, err
	}
	return audit.NewService(store.Audit(), store.AuditKey(), clock, pubs...), nil
}

// auditCommand runs `opsbot audit verify|checkpoint|export`; broken means
// the chain did not verify (exit code 1).
func auditCommand(ctx context.Context, sub string, f auditFlags, cfg *configs.Config, logger *slog.Logger, out io.Writer) (broken bool, err error) {
	key, err := loadAuditKey(cfg.Audit, logger, false)
	if err != nil {
		return false, err
	}
	store, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{MaxConns: 2, AuditKey: key})
	if err != nil {
		return false, err
	}
	defer store.Close()
	svc, err := auditService(cfg, store, core.SystemClock{})
	if err != nil {
		return false, err
	}
	switch sub {
	case "audit checkpoint":
		c, err := svc.Checkpoint(ctx, core.SystemActor())
		if err != nil {
			return false, err
		}
		fmt.Fprintf(out, "audit checkpoint signed: entry %d, hash %s, at %s, key %s\n", c.Seq, c.Hash, c.At.Format(time.RFC3339), c.KeyID)
		return false, nil
	case "audit export":
		return exportAudit(ctx, svc, f, cfg, out)
	}
	var cps []audit.Checkpoint
	for _, path := range f.checkpoints {
		if key == nil {
			return false, errors.New("audit: --checkpoint needs the audit key (audit.key_file)")
		}
		fh, err := os.Open(path)
		if err != nil {
			return false, fmt.Errorf("audit: %w", err)
		}
		got, err := audit.ReadCheckpoints(fh, key)
		_ = fh.Close()
		if err != nil {
			fmt.Fprintf(out, "audit checkpoints FORGED in %s: %v\n", path, err)
			return true, nil
		}
		cps = append(cps, got...)
	}
	r, err := svc.Verify(ctx, cps)
	if err != nil {
		return false, err
	}
	if r.Break != nil {
		fmt.Fprintf(out, "audit chain BROKEN after %d good entries: %s\n", r.Count, r.Break.Error())
		return true, nil
	}
	how := "unkeyed"
	if r.AnchorSeq > 0 {
		how = fmt.Sprintf("sealed with key %s from entry %d", key.ID(), r.AnchorSeq)
	}
	fmt.Fprintf(out, "audit chain ok: %d entries verified (%s; %d checkpoints matched)\n", r.Count, how, len(cps))
	return false, nil
}

// exportAudit writes the entries of the day range as JSON lines, then the
// signed checkpoint of the last one as {"checkpoint": …}.
func exportAudit(ctx context.Context, svc *audit.Service, f auditFlags, cfg *configs.Config, out io.Writer) (bool, error) {
	from, to, err := audit.DayRange(f.from, f.to, cfg.Bot.Location())
	if err != nil {
		return false, err
	}
	w := bufio.NewWriter(out)
	x, err := svc.Export(ctx, core.SystemActor(), from, to, func(e core.AuditEntry) error {
		line, err := audit.ExportLine(e)
		if err != nil {
			return err
		}
		_, err = w.Write(append(line, '\n'))
		return err
	})
	if err != nil {
		return false, err
	}
	if x.Checkpoint != nil {
		line, err := audit.CheckpointLine(*x.Checkpoint)
		if err != nil {
			return false, err
		}
		_, _ = w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		return false, fmt.Errorf("audit export: %w", err)
	}
	if x.Break != nil {
		return true, fmt.Errorf("audit export: the chain is broken, no checkpoint signed: %w", x.Break)
	}
	return false, nil
}
