-- Deliveries are idempotent per (outbox id, recipient) on the platform side
-- where the platform is ours: a webchat message stored for an outbox notice
-- carries the notice's id and its recipient, once. A worker killed after
-- storing the message and before marking the outbox row delivered no
-- longer stores it twice on the next attempt (issue 21).
ALTER TABLE webchat_messages ADD COLUMN outbox_id bigint;
ALTER TABLE webchat_messages ADD COLUMN recipient text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX webchat_messages_outbox_recipient ON webchat_messages (outbox_id, recipient)
    WHERE outbox_id IS NOT NULL;

-- Notices that failed for good on a platform (and went to the user's next
-- platform, or nowhere). The hourly report counts the unreported ones,
-- marks them reported and tells the sys admins, once across replicas.
CREATE TABLE delivery_failures (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint NOT NULL,
    platform    text NOT NULL,
    error       text NOT NULL DEFAULT '',
    failed_at   timestamptz NOT NULL DEFAULT now(),
    reported_at timestamptz
);
CREATE INDEX delivery_failures_unreported ON delivery_failures (failed_at) WHERE reported_at IS NULL;
