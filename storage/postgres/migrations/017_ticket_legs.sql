-- Working-day deadlines by the calendar's period rule (M 6.2, W 5.5 c):
-- each ticket keeps when its current leg's clock started, the working
-- time it was paused, whether its deadline runs through a year without
-- official holiday data, and the technical leg of a ticket forwarded to
-- an app's access party. Rows of before keep their receipt as the start
-- (their pauses are unknown and count as none when deadlines are
-- recomputed).
ALTER TABLE tickets
    ADD COLUMN clock_start  timestamptz,
    ADD COLUMN paused_for   bigint NOT NULL DEFAULT 0 CHECK (paused_for >= 0), -- nanoseconds of working time
    ADD COLUMN provisional  boolean NOT NULL DEFAULT false,
    ADD COLUMN first_kind   text NOT NULL DEFAULT '',
    ADD COLUMN first_due_at timestamptz,
    ADD COLUMN forwarded_at timestamptz;
UPDATE tickets SET clock_start = created_at;
-- contract: written before the expand/contract rule (issue 13). A build
-- without 017 inserts tickets without clock_start, which this refuses, so it
-- must not run beside this schema; no such build was put into service, and
-- README Deploy → Upgrades says to stop every replica of one before migrating.
ALTER TABLE tickets ALTER COLUMN clock_start SET NOT NULL;

-- Years whose official holiday schedule an admin loaded (/calendar import).
CREATE TABLE calendar_years (
    year      integer PRIMARY KEY CHECK (year BETWEEN 1900 AND 2100),
    loaded_by text NOT NULL,
    loaded_at timestamptz NOT NULL
);
