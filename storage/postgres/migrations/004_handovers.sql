-- Duty handovers (交接班): one per rotation and shift start.

CREATE TABLE handovers (
    id           bigserial PRIMARY KEY,
    rotation     text NOT NULL REFERENCES duty_rotations (name),
    shift_start  timestamptz NOT NULL,
    outgoing     text NOT NULL,
    incoming     text NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted')),
    notes        text NOT NULL DEFAULT '',
    open_items   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    UNIQUE (rotation, shift_start)
);
CREATE INDEX handovers_rotation ON handovers (rotation, id);
