-- Fixed resources (hydrants, AEDs, cameras, workstations, shelters, …) and safety hazards (安全隐患), geocoded on
-- write like incidents. A hazard may be a point or an area: geometry holds its GeoJSON, lon/lat a point inside it.
CREATE TABLE resources (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id    TEXT UNIQUE,
    category       TEXT NOT NULL,
    name           TEXT NOT NULL,
    attributes     JSONB NOT NULL,
    lon            DOUBLE PRECISION NOT NULL,
    lat            DOUBLE PRECISION NOT NULL,
    geom           geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT NOT NULL,
    generation_id  BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX resources_grid ON resources (grid_code, id);
CREATE INDEX resources_category ON resources (category, id);
CREATE INDEX resources_lon_lat ON resources (lon, lat);

CREATE TABLE hazards (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category       TEXT NOT NULL,
    description    TEXT NOT NULL,
    severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    department     TEXT NOT NULL,
    status         TEXT NOT NULL,
    geometry       TEXT NOT NULL,
    lon            DOUBLE PRECISION NOT NULL,
    lat            DOUBLE PRECISION NOT NULL,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT NOT NULL,
    generation_id  BIGINT,
    due_at         TIMESTAMPTZ,
    reported_at    TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX hazards_grid ON hazards (grid_code, id);
CREATE INDEX hazards_status ON hazards (status, due_at);

CREATE TABLE hazard_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hazard_id   BIGINT NOT NULL REFERENCES hazards(id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);
