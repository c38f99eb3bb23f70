-- A responder's status changes from several places (PUT status, assignment, release) whose handlers finish in any
-- order; every status UPDATE increments this counter, so the in-memory fleet and the console keep the newest status
-- instead of the last one to arrive.
ALTER TABLE responders ADD COLUMN status_version BIGINT NOT NULL DEFAULT 0;
