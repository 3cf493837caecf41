// Package server is opsbot's HTTP front: one mux for every platform
// adapter, /healthz, /readyz, /metrics, request metrics and logging, and
// graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are opsbot's Prometheus metrics.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	commands     *prometheus.CounterVec
	tasks        *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
	retries      *prometheus.CounterVec
	busy         *prometheus.CounterVec
}

// NewMetrics registers opsbot's metrics on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_commands_total", Help: "Chat commands and button actions by name and outcome (ok, refused, error).",
		}, []string{"command", "outcome"}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_tasks_total", Help: "Background tasks by type and outcome.",
		}, []string{"type", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_deliveries_total", Help: "Message sends by platform and outcome.",
		}, []string{"platform", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_retries_total", Help: "Work applied again after a deadlock or serialization conflict, by what and outcome (ok, failed).",
		}, []string{"what", "outcome"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_busy_total", Help: "Requests turned away with 503 and Retry-After to bound the work in flight, by what.",
		}, []string{"what"}),
	}
	m.Registry.MustRegister(m.httpRequests, m.httpDuration, m.commands, m.tasks, m.deliveries, m.retries, m.busy,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Command counts a command outcome.
func (m *Metrics) Command(name, outcome string) { m.commands.WithLabelValues(name, outcome).Inc() }

// Task counts a task outcome.
func (m *Metrics) Task(taskType, outcome string) { m.tasks.WithLabelValues(taskType, outcome).Inc() }

// Retry counts work applied again after a deadlock or serialization
// conflict (what: e.g. "alert_ingest").
func (m *Metrics) Retry(what, outcome string) { m.retries.WithLabelValues(what, outcome).Inc() }

// Busy counts a request turned away by admission control (what: e.g.
// "alert_ingest").
func (m *Metrics) Busy(what string) { m.busy.WithLabelValues(what).Inc() }

// Delivery counts a send outcome.
func (m *Metrics) Delivery(platform, outcome string) {
	m.deliveries.WithLabelValues(platform, outcome).Inc()
}

// BacklogTimeout bounds each backlog query made during a scrape.
const BacklogTimeout = 2 * time.Second

// WatchBacklog registers two gauges read at scrape time:
// opsbot_outbox_pending (notices not yet delivered) and
// opsbot_timers_late_seconds (how far past due the oldest pending timer
// is, 0 when none is due). A query that fails leaves its gauge out of
// that scrape rather than reporting a false zero.
func (m *Metrics) WatchBacklog(outboxPending func(context.Context) (int, error), timersLate func(context.Context) (time.Duration, error)) {
	m.Registry.MustRegister(&backlog{
		pending: prometheus.NewDesc("opsbot_outbox_pending", "Outbox notices waiting to be delivered.", nil, nil),
		late:    prometheus.NewDesc("opsbot_timers_late_seconds", "How late the oldest due, unfired timer is (0 when none is due).", nil, nil),
		pendFn:  outboxPending, lateFn: timersLate,
	})
}

// backlog is the collector behind WatchBacklog.
type backlog struct {
	pending, late *prometheus.Desc
	pendFn        func(context.Context) (int, error)
	lateFn        func(context.Context) (time.Duration, error)
}

// Describe implements prometheus.Collector.
func (b *backlog) Describe(ch chan<- *prometheus.Desc) { ch <- b.pending; ch <- b.late }

// Collect implements prometheus.Collector.
func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), BacklogTimeout)
	defer cancel()
	if n, err := b.pendFn(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(b.pending, prometheus.GaugeValue, float64(n))
	}
	if d, err := b.lateFn(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(b.late, prometheus.GaugeValue, max(d, 0).Seconds())
	}
}

// Check is a readiness check: it names what it checks and returns its error.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Server is the HTTP server.
type Server struct {
	Mux     *http.ServeMux
	metrics *Metrics
	checks  []Check
	log     *slog.Logger
	srv     *http.Server
	tlsCert string
	tlsKey  string
	proxies []*net.IPNet
}

// UseTLS makes Serve speak HTTPS only, with the PEM certificate and key
// files.
func (s *Server) UseTLS(certFile, keyFile string) { s.tlsCert, s.tlsKey = certFile, keyFile }

// TrustProxies makes requests whose peer is in one of nets take their
// client address from X-Forwarded-For: the rightmost address not itself a
// trusted proxy. Without trusted proxies the header is ignored.
func (s *Server) TrustProxies(nets []*net.IPNet) { s.proxies = nets }

// clientAddr returns the client's address for r: the peer, or, when the
// peer is a trusted proxy, the rightmost untrusted X-Forwarded-For entry
// (as "ip:0"). Entries left of it are the client's own claims and ignored.
func (s *Server) clientAddr(r *http.Request) string {
	if len(s.proxies) == 0 || !s.trusted(hostIP(r.RemoteAddr)) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			return r.RemoteAddr
		}
		if !s.trusted(ip) {
			return net.JoinHostPort(ip.String(), "0")
		}
	}
	return r.RemoteAddr
}

// trusted reports whether ip is one of the trusted proxies.
func (s *Server) trusted(ip net.IP) bool {
	for _, n := range s.proxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// hostIP parses the IP of a host:port address (nil when it is not one).
func hostIP(addr string) net.IP {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return net.ParseIP(host)
}

// New returns a server with /healthz, /readyz and /metrics registered.
func New(metrics *Metrics, checks []Check, logger *slog.Logger) *Server {
	s := &Server{Mux: http.NewServeMux(), metrics: metrics, checks: checks, log: logger.With("component", "http")}
	s.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.Mux.HandleFunc("GET /readyz", s.ready)
	s.Mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{Registry: metrics.Registry}))
	return s
}

// ServePprof registers Go's runtime profiles under /debug/pprof/ and
// switches on the mutex and block profiles (server.pprof). Only loopback
// peers not forwarded by a proxy (no X-Forwarded-For) get them; anyone
// else gets 404, as without the flag.
func (s *Server) ServePprof() {
	runtime.SetMutexProfileFraction(100)
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	loopback := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := hostIP(r.RemoteAddr)
			if ip == nil || !ip.IsLoopback() || r.Header.Get("X-Forwarded-For") != "" {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	s.Mux.Handle("GET /debug/pprof/", loopback(http.HandlerFunc(pprof.Index)))
	s.Mux.Handle("GET /debug/pprof/cmdline", loopback(http.HandlerFunc(pprof.Cmdline)))
	s.Mux.Handle("GET /debug/pprof/profile", loopback(http.HandlerFunc(pprof.Profile)))
	s.Mux.Handle("GET /debug/pprof/symbol", loopback(http.HandlerFunc(pprof.Symbol)))
	s.Mux.Handle("GET /debug/pprof/trace", loopback(http.HandlerFunc(pprof.Trace)))
}

// CheckTimeout bounds each readiness check.
const CheckTimeout = time.Second

// ready runs every check afresh, all at once, each under CheckTimeout: a
// round trip to each store on every call, never a cached answer. A check
// whose client does not honour its context (go-redis waits for its own
// read timeout) is not waited for past the timeout.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	errs := make([]chan error, len(s.checks))
	for i, c := range s.checks {
		errs[i] = make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), CheckTimeout)
			defer cancel()
			errs[i] <- c.Fn(ctx)
		}()
	}
	deadline := time.Now().Add(CheckTimeout + 50*time.Millisecond)
	status, body := http.StatusOK, ""
	for i, c := range s.checks {
		var err error
		select {
		case err = <-errs[i]:
		default:
			select {
			case err = <-errs[i]:
			case <-time.After(time.Until(deadline)):
				err = errors.New("no answer within " + CheckTimeout.String())
			}
		}
		if err != nil {
			status = http.StatusServiceUnavailable
			body += c.Name + ": " + err.Error() + "\n"
			s.log.Warn("not ready", "check", c.Name, "err", err)
		} else {
			body += c.Name + ": ok\n"
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// statusWriter remembers the status code.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler returns the mux wrapped in metrics, logging and panic recovery.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if len(s.proxies) > 0 {
			r.RemoteAddr = s.clientAddr(r)
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			// The mux sets the pattern it matched on r before calling
			// its handler (matching it here too cost ~1.5 % of ingest).
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "route", route, "panic", p)
				sw.code = http.StatusInternalServerError
				http.Error(sw, `{"error":"internal error"}`, http.StatusInternalServerError)
			}
			d := time.Since(start)
			s.metrics.httpRequests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
			s.metrics.httpDuration.WithLabelValues(route, r.Method).Observe(d.Seconds())
			if sw.code >= 500 {
				s.log.Warn("request", "method", r.Method, "path", logPath(r.URL.Path), "code", sw.code, "duration_ms", d.Milliseconds())
			} else if s.log.Enabled(r.Context(), slog.LevelDebug) { // not built per request when it is not logged
				s.log.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "code", sw.code, "duration_ms", d.Milliseconds())
			}
		}()
		s.Mux.ServeHTTP(sw, r)
	})
}

// logPath is a request's path as logged: an iCal feed's secret (the
// file name under /ical/) is left out.
func logPath(p string) string {
	if strings.HasPrefix(p, "/ical/") {
		return "/ical/[redacted].ics"
	}
	return p
}

// Serve listens on addr and serves until ctx ends, then shuts down within
// grace. ready, when set, is told the bound address. With UseTLS it serves
// HTTPS only and fails at once when the certificate or key cannot be loaded.
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	scheme := "http"
	if s.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(s.tlsCert, s.tlsKey)
		if err != nil {
			return fmt.Errorf("server: tls: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if s.srv.TLSConfig != nil {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
