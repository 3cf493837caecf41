package redistest

import (
	"strings"
	"testing"
)

func TestURLAddsDBBase(t *testing.T) {
	t.Setenv("TEST_REDIS_URL", "redis://127.0.0.1:6399/")
	t.Setenv(BaseEnv, "")
	if got := URL(3); got != "redis://127.0.0.1:6399/3" {
		t.Fatalf("no base: URL(3) = %q", got)
	}
	t.Setenv(BaseEnv, "4")
	if got := URL(3); got != "redis://127.0.0.1:6399/7" {
		t.Fatalf("base 4: URL(3) = %q", got)
	}
	if got := URL(MaxIndex); got != "redis://127.0.0.1:6399/15" {
		t.Fatalf("base 4: URL(MaxIndex) = %q", got)
	}
}

func TestDBRejectsBadBase(t *testing.T) {
	for base, want := range map[string]string{
		"5":  "OPSBOT_TEST_REDIS_DB_BASE=5 puts index 11 on Redis database 16; Redis has 0..15, so the base must be 0..4",
		"x":  `OPSBOT_TEST_REDIS_DB_BASE="x" is not a whole number from 0 to 4`,
		"-1": `OPSBOT_TEST_REDIS_DB_BASE="-1" is not a whole number from 0 to 4`,
	} {
		t.Setenv(BaseEnv, base)
		_, err := DB(MaxIndex)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("base %s: err = %v, want %q", base, err, want)
		}
	}
	t.Setenv(BaseEnv, "4")
	if _, err := DB(MaxIndex + 1); err == nil {
		t.Errorf("index %d accepted; the package's indexes end at %d", MaxIndex+1, MaxIndex)
	}
}
