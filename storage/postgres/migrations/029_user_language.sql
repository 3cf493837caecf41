-- Per-user language (issue 18): the language a user chose for replies
-- and notices with /lang; '' is the bot's default (bot.language).
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT '';
