-- Where a card went on WeCom or Slack, so it can be updated after a
-- decision: WeCom keeps the send's response_code (valid once, 72 h), Slack
-- the channel and ts. data is the adapter's own JSON.
CREATE TABLE platform_messages (
    id         bigserial PRIMARY KEY,
    platform   text NOT NULL,
    ref        text NOT NULL,
    address    text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_messages_ref ON platform_messages (platform, ref, id);

-- Messages a platform's rate limit held back (WeCom: 30 a minute, 1000 an
-- hour per member). They are merged per address and sent when the window
-- frees; kept here so a crash or a Redis flush loses none.
CREATE TABLE platform_held (
    id         bigserial PRIMARY KEY,
    platform   text NOT NULL,
    address    text NOT NULL,
    body       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_held_address ON platform_held (platform, address, id);
