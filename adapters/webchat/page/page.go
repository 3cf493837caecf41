// Package page serves the single-page webchat client of opsbot.
//
// The page is one self-contained HTML file with inline CSS and JavaScript.
// It needs no build step and loads nothing from other hosts. It talks to the
// JSON API under /webchat/api, which another package serves.
package page

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

//go:embed index.html
var indexHTML []byte

// etag identifies the embedded page, so that a browser can revalidate its
// copy cheaply.
var etag = func() string {
	sum := sha256.Sum256(indexHTML)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// contentSecurityPolicy allows only the inline script and the inline style
// block of the page itself, and requests to the same origin. Even if a bug
// in the page let markup from a message through, the browser would not run
// its scripts or event handlers.
var contentSecurityPolicy = buildCSP(indexHTML)

// Handler returns an http.Handler that serves the webchat page for GET and
// HEAD requests of any path it is mounted at, for example "/webchat/" and
// "/". It answers other methods with 405 Method Not Allowed.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if contentSecurityPolicy != "" {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	// ServeContent handles HEAD, If-None-Match and Content-Length.
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(indexHTML))
}

// buildCSP returns a Content-Security-Policy for the page, with the hashes of
// its one inline <script> and its one inline <style> element. It returns ""
// if the page does not have exactly one of each, and the tests check that it
// does.
func buildCSP(html []byte) string {
	script, ok := inlineBlock(string(html), "script")
	if !ok {
		return ""
	}
	style, ok := inlineBlock(string(html), "style")
	if !ok {
		return ""
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + sha256Source(script),
		"style-src " + sha256Source(style),
		"connect-src 'self'",
		"img-src 'self' data:",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

// inlineBlock returns the text between <tag> and </tag>, if the page has
// exactly one such element and it has no attributes.
func inlineBlock(html, tag string) (string, bool) {
	open, end := "<"+tag+">", "</"+tag+">"
	if strings.Count(html, open) != 1 || strings.Count(html, end) != 1 || strings.Count(html, "<"+tag) != 1 {
		return "", false
	}
	_, rest, _ := strings.Cut(html, open)
	body, _, ok := strings.Cut(rest, end)
	return body, ok
}

func sha256Source(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
