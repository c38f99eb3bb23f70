-- Incidents and their history. Codes are the geocode at write time, refreshed on activation while open.
-- geom is derived from lon/lat so GIS tools can use the table directly.
CREATE TABLE incidents (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category       TEXT             NOT NULL,
    description    TEXT             NOT NULL,
    priority       INTEGER          NOT NULL CHECK (priority BETWEEN 1 AND 5),
    source         TEXT             NOT NULL,
    address        TEXT,
    lon            DOUBLE PRECISION NOT NULL,
    lat            DOUBLE PRECISION NOT NULL,
    geom           geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    status         TEXT             NOT NULL,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT             NOT NULL,
    generation_id  BIGINT,
    reported_at    TIMESTAMPTZ      NOT NULL,
    created_at     TIMESTAMPTZ      NOT NULL,
    updated_at     TIMESTAMPTZ      NOT NULL
);
CREATE INDEX incidents_grid ON incidents (grid_code, id);
CREATE INDEX incidents_community ON incidents (community_code, id);
CREATE INDEX incidents_street ON incidents (street_code, id);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_reported_at ON incidents (reported_at);
CREATE INDEX incidents_lon_lat ON incidents (lon, lat);
CREATE INDEX incidents_geom ON incidents USING gist (geom);

CREATE TABLE incident_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT      NOT NULL REFERENCES incidents(id),
    from_status TEXT,
    to_status   TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT        NOT NULL,
    note        TEXT
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
