-- Incidents and their history. Codes are the geocode at write time, refreshed on activation while open.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    category       TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    priority       INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    source         TEXT    NOT NULL,
    address        TEXT,
    lon            REAL    NOT NULL,
    lat            REAL    NOT NULL,
    status         TEXT    NOT NULL,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT    NOT NULL,
    generation_id  INTEGER,
    reported_at    TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX incidents_grid ON incidents (grid_code, id);
CREATE INDEX incidents_community ON incidents (community_code, id);
CREATE INDEX incidents_street ON incidents (street_code, id);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_reported_at ON incidents (reported_at);
CREATE INDEX incidents_lon_lat ON incidents (lon, lat);

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    note        TEXT
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
