-- When an incident is due (时限: its report time plus the policy's deadline for its category and priority); an open
-- incident past it is overdue (issue 29). NULL: no deadline (incidents written before, or a priority without one).
ALTER TABLE incidents ADD COLUMN due_at TEXT;
CREATE INDEX incidents_due_at ON incidents (due_at) WHERE due_at IS NOT NULL;
