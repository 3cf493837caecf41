package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/adapters/server"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "opsbot-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	s := server.New(server.NewMetrics(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.UseTLS(certFile, keyFile)
	ctx, cancel := context.WithCancel(context.Background())
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- s.Serve(ctx, "127.0.0.1:0", time.Second, func(a string) { addrc <- a }) }()
	addr := <-addrc

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get("https://" + addr + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ok\n", string(body))

	// Plain HTTP on the TLS port gets no page.
	resp, err = http.Get("http://" + addr + "/healthz")
	if err == nil {
		_ = resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
	cancel()
	require.NoError(t, <-done)
}

func TestServeTLSBadFiles(t *testing.T) {
	t.Parallel()
	s := server.New(server.NewMetrics(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.UseTLS("/nonexistent/tls.crt", "/nonexistent/tls.key")
	err := s.Serve(context.Background(), "127.0.0.1:0", time.Second, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "tls")
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	_, trusted, err := net.ParseCIDR("10.0.0.0/8")
	require.NoError(t, err)
	tests := []struct {
		name, peer, xff, want string
		trust                 bool
	}{
		{name: "no proxies configured: header ignored", peer: "10.1.1.1:5000", xff: "203.0.113.9", want: "10.1.1.1:5000"},
		{name: "trusted proxy", trust: true, peer: "10.1.1.1:5000", xff: "203.0.113.9", want: "203.0.113.9:0"},
		{name: "chain of trusted proxies", trust: true, peer: "10.1.1.1:5000", xff: "203.0.113.9, 10.2.2.2", want: "203.0.113.9:0"},
		{name: "spoofed left entries ignored", trust: true, peer: "10.1.1.1:5000", xff: "1.2.3.4, 203.0.113.9", want: "203.0.113.9:0"},
		{name: "untrusted peer: header ignored", trust: true, peer: "198.51.100.7:5000", xff: "203.0.113.9", want: "198.51.100.7:5000"},
		{name: "garbage header", trust: true, peer: "10.1.1.1:5000", xff: "not-an-ip", want: "10.1.1.1:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := server.New(server.NewMetrics(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tt.trust {
				s.TrustProxies([]*net.IPNet{trusted})
			}
			s.Mux.HandleFunc("GET /who", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.RemoteAddr) })
			req := httptest.NewRequest(http.MethodGet, "/who", nil)
			req.RemoteAddr = tt.peer
			req.Header.Set("X-Forwarded-For", tt.xff)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			require.Equal(t, tt.want, rec.Body.String())
		})
	}
}

func TestBacklogGauges(t *testing.T) {
	t.Parallel()
	m := server.NewMetrics()
	pending := 7
	m.WatchBacklog(func(context.Context) (int, error) { return pending, nil },
		func(context.Context) (time.Duration, error) { return 90 * time.Second, nil })
	s := server.New(m, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.Delivery("webchat", "failed")
	text := scrape(t, s)
	require.Contains(t, text, "opsbot_outbox_pending 7\n")
	require.Contains(t, text, "opsbot_timers_late_seconds 90\n")
	require.Contains(t, text, `opsbot_deliveries_total{outcome="failed",platform="webchat"} 1`)

	// A failing query is not a zero: the gauge is absent for that scrape.
	m2 := server.NewMetrics()
	m2.WatchBacklog(func(context.Context) (int, error) { return 0, errors.New("down") },
		func(context.Context) (time.Duration, error) { return 0, errors.New("down") })
	text = scrape(t, server.New(m2, nil, slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NotContains(t, text, "opsbot_outbox_pending ")
	require.NotContains(t, text, "opsbot_timers_late_seconds ")
}

func scrape(t *testing.T, s *server.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return strings.ReplaceAll(rec.Body.String(), "\r", "")
}
