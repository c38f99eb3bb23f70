-- An assignment ends when the responder is unassigned or replaced, or the incident is resolved, closed or cancelled.
-- Open assignments (released_at IS NULL) are what keeps a responder busy.
ALTER TABLE assignments ADD COLUMN released_at TIMESTAMPTZ;
ALTER TABLE assignments ADD COLUMN released_by TEXT;
ALTER TABLE assignments ADD COLUMN release_reason TEXT;
CREATE INDEX assignments_open ON assignments (incident_id) WHERE released_at IS NULL;
