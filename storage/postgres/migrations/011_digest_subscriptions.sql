-- Digest opt-ins and opt-outs (managers get it unless they opt out).
CREATE TABLE IF NOT EXISTS digest_subscriptions (
    user_id    text PRIMARY KEY,
    subscribed boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
