-- The reporter's satisfaction (回访), recorded once an incident is resolved: a rating 1–5, an optional comment, who
-- recorded it and when. A correction overwrites these columns; the audit log keeps what it replaced (issue 29).
ALTER TABLE incidents ADD COLUMN satisfaction_rating INTEGER CHECK (satisfaction_rating BETWEEN 1 AND 5);
ALTER TABLE incidents ADD COLUMN satisfaction_comment TEXT;
ALTER TABLE incidents ADD COLUMN satisfaction_by TEXT;
ALTER TABLE incidents ADD COLUMN satisfaction_at TIMESTAMPTZ;
