-- Who called it in (name and/or phone as the dispatcher took it down), apart from the description (issue 34).
ALTER TABLE incidents ADD COLUMN caller TEXT;
