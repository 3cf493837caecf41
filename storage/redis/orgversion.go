package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// orgVersionKey counts the org's committed changes across replicas.
const orgVersionKey = "opsbot:org:version"

// OrgVersion returns the org's version (core/org.Versions): it changes
// with every committed org change on any replica. A missing key (a new or
// flushed Redis) is set to the current time in nanoseconds, a value no
// version read before the loss can have had. Concurrent callers share
// one read issued after each of them asked (core.NewSharedReads): every change
// bumped before the call is seen.
func (s *Shared) OrgVersion(ctx context.Context) (string, error) {
	return s.version.Do(ctx, struct{}{})
}

// readOrgVersion reads the org's version from Redis.
func (s *Shared) readOrgVersion(ctx context.Context) (string, error) {
	v, err := s.c.Get(ctx, orgVersionKey).Result()
	if errors.Is(err, goredis.Nil) {
		if err := s.c.SetNX(ctx, orgVersionKey, time.Now().UnixNano(), 0).Err(); err != nil {
			return "", fmt.Errorf("redis: org version: %w", err)
		}
		v, err = s.c.Get(ctx, orgVersionKey).Result()
	}
	if err != nil {
		return "", fmt.Errorf("redis: org version: %w", err)
	}
	return v, nil
}

// BumpOrgVersion moves the org's version on after a committed org change.
// A missing key starts from the current time (see OrgVersion).
func (s *Shared) BumpOrgVersion(ctx context.Context) error {
	err := s.c.SetNX(ctx, orgVersionKey, strconv.FormatInt(time.Now().UnixNano(), 10), 0).Err()
	if err == nil {
		err = s.c.Incr(ctx, orgVersionKey).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: bump org version: %w", err)
	}
	return nil
}
