-- Inspection plans on "working days at HH:MM" (M 7.3.2.2.1): such a plan
-- runs on each working day of the PRC calendar (statutory holidays off,
-- make-up workdays on) instead of a cron spec. A plan has exactly one of
-- the two; plans from before this migration are cron plans.
ALTER TABLE inspection_plans ADD COLUMN workdays text NOT NULL DEFAULT '';
ALTER TABLE inspection_plans ADD CONSTRAINT inspection_plans_schedule CHECK ((cron = '') <> (workdays = ''));
