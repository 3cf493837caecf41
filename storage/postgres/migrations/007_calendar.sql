-- Admin overrides of the working-day calendar (/calendar set).
CREATE TABLE calendar_overrides (
    day    date PRIMARY KEY,
    off    boolean NOT NULL,
    name   text NOT NULL DEFAULT '',
    set_by text NOT NULL,
    set_at timestamptz NOT NULL
);
