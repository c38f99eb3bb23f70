-- Who was sent to which incident, by whom, and the ranking the dispatcher saw when choosing (audit).
CREATE TABLE assignments (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  BIGINT      NOT NULL REFERENCES incidents(id),
    responder_id BIGINT      NOT NULL REFERENCES responders(id),
    actor        TEXT        NOT NULL,
    assigned_at  TIMESTAMPTZ NOT NULL,
    ranking      JSONB       NOT NULL
);
CREATE INDEX assignments_incident ON assignments (incident_id, id);
CREATE INDEX assignments_responder ON assignments (responder_id, id);
