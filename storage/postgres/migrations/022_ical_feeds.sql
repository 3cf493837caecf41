-- iCal subscription feeds of duty shifts (issue 15): a secret URL per
-- user, GET /ical/{secret}.ics. rotation '' is the user's own shifts on
-- every rotation; a name is that rotation's shifts. Only the SHA-256 of
-- the secret is kept; prefix is its non-secret start, to tell feeds apart.
CREATE TABLE ical_feeds (
    id         bigserial PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    prefix     text NOT NULL,
    user_id    text NOT NULL REFERENCES users (id),
    rotation   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by text NOT NULL DEFAULT ''
);
-- A user has at most one live feed of each kind: a new one replaces it.
CREATE UNIQUE INDEX ical_feeds_live ON ical_feeds (user_id, rotation) WHERE revoked_at IS NULL;
