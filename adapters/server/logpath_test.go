package server

import "testing"

// TestLogPathHidesFeedSecrets: an iCal feed's secret (its file name) never
// reaches the request log; other paths are logged as they are.
func TestLogPathHidesFeedSecrets(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/ical/abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.ics": "/ical/[redacted].ics",
		"/ical/": "/ical/[redacted].ics", "/console/duty": "/console/duty", "/icalendar": "/icalendar",
	} {
		if got := logPath(in); got != want {
			t.Errorf("logPath(%q) = %q, want %q", in, got, want)
		}
	}
}
