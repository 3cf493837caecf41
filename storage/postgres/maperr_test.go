package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"opsbot/core"
)

// TestRetryIsMarkedOnce: a deadlock mapped at several layers reads
// "retry: …" once, and is still core.ErrRetry.
func TestRetryIsMarkedOnce(t *testing.T) {
	err := mapErr(fmt.Errorf("postgres: lock alert groups: %w", &pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected"}))
	err = mapErr(fmt.Errorf("postgres: collect: %w", err))
	require.True(t, errors.Is(err, core.ErrRetry))
	require.Equal(t, "postgres: collect: retry: postgres: lock alert groups: ERROR: deadlock detected (SQLSTATE 40P01)", err.Error())
}
