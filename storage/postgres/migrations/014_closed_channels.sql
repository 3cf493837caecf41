-- Channels are closed (issue 21): membership comes from the config
-- (channels[].members and channels[].roles, computed, no longer copied
-- here) and from sys admins' /channel add. Rows written before were the
-- configured members and anyone who had posted into a channel (which
-- joined it); none of them is an admin's addition, so they go.
DELETE FROM webchat_channel_members;
