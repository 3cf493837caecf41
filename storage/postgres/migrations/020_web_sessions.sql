-- Placeholder on the "tokens" branch only: migration 020 belongs to the
-- "signin" helper (web sessions); tern needs an unbroken sequence to run
-- 021_api_tokens. At merge, take signin's 020_web_sessions.sql instead.
SELECT 1;
