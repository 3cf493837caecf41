-- Typed notices: the outbox keeps each notice's type name (in kind), the
-- version of its payload's JSON shape and the payload (in data). Rows the
-- previous release queued are version 0: data is the renderer's string map.
ALTER TABLE outbox ADD COLUMN version int NOT NULL DEFAULT 0;
