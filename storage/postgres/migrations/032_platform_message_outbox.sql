-- The outbox notice that posted a WeCom or Slack card (NULL: a direct
-- reply, or a card from before this column): an update of cards touches
-- only cards posted by earlier notices, never a newer card with older state.
ALTER TABLE platform_messages ADD COLUMN outbox_id bigint;
