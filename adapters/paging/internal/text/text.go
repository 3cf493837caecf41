// Package text holds the small text helpers the paging providers share.
package text

// Cut shortens s to at most n runes, ending with "…" when cut (SMS and
// TTS template variables have length limits).
func Cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
