-- Notices to one person (or channel) are delivered in the order they were
-- written (issue 18): a claim looks for an earlier pending row to the same
-- recipient, or about the same ref for an update of cards.
CREATE INDEX outbox_pending_user ON outbox (to_user, id) WHERE state = 'pending' AND to_user <> '';
CREATE INDEX outbox_pending_channel ON outbox (to_channel, id) WHERE state = 'pending' AND to_channel <> '';
CREATE INDEX outbox_pending_ref ON outbox (ref, id) WHERE state = 'pending';
