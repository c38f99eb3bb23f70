-- Departments (职能部门) and the event flow through them (issue 29): the register (code, name, the categories each
-- handles: a JSON array of category codes), where each incident is routed (分拨) and how far the department has
-- taken it (routed → accepted, or returned (退回) to the router, or transferred (转办) to another department).
CREATE TABLE departments (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    categories TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- department_code is not a foreign key: imported history names departments that were never in the register.
ALTER TABLE incidents ADD COLUMN department_code TEXT;
ALTER TABLE incidents ADD COLUMN department_state TEXT CHECK (department_state IN ('routed', 'accepted', 'returned'));
ALTER TABLE incidents ADD COLUMN returned_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX incidents_department ON incidents (department_code);
-- When it was last resolved and when it was closed: what assessment measures times to close with.
ALTER TABLE incidents ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN closed_at TIMESTAMPTZ;
UPDATE incidents SET resolved_at = (SELECT MAX(e.at) FROM incident_events e WHERE e.incident_id = incidents.id
    AND e.to_status = 'resolved') WHERE status IN ('resolved', 'closed');
UPDATE incidents SET closed_at = (SELECT MAX(e.at) FROM incident_events e WHERE e.incident_id = incidents.id
    AND e.to_status = 'closed') WHERE status = 'closed';
-- The id an imported incident had in the system it came from: importing the same file twice adds nothing.
ALTER TABLE incidents ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX incidents_external_id ON incidents (external_id);
-- Steps that are not status changes (routed, accepted, returned, transferred, imported) and the department named.
ALTER TABLE incident_events ADD COLUMN action TEXT;
ALTER TABLE incident_events ADD COLUMN department TEXT;
CREATE INDEX incident_events_action ON incident_events (action, department) WHERE action IS NOT NULL;
