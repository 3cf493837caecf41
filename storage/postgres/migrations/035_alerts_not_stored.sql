-- alerts_not_stored fails the statement (and so its transaction) that
-- updated the status of alerts the process believed stored and found n
-- of them missing: its alert cache was stale (the rows were changed
-- behind its back without a new group version). It is a serialization
-- failure (40001): the store retries the transaction (core.ErrRetry),
-- which reads the group afresh, and nothing is committed half-done.
CREATE FUNCTION alerts_not_stored(n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = format('%s of the alerts whose status was updated are not stored (stale alert cache)', n);
END $$;
