-- Who was sent to which incident, by whom, and the ranking the dispatcher saw when choosing (audit).
CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    responder_id INTEGER NOT NULL REFERENCES responders(id),
    actor        TEXT    NOT NULL,
    assigned_at  TEXT    NOT NULL,
    ranking      TEXT    NOT NULL
);
CREATE INDEX assignments_incident ON assignments (incident_id, id);
CREATE INDEX assignments_responder ON assignments (responder_id, id);
