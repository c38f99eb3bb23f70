-- Fixed resources (hydrants, AEDs, cameras, workstations, shelters, …) and safety hazards (安全隐患), geocoded on
-- write like incidents. A hazard may be a point or an area: geometry holds its GeoJSON, lon/lat a point inside it.
CREATE TABLE resources (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id    TEXT UNIQUE,
    category       TEXT NOT NULL,
    name           TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    lon            REAL NOT NULL,
    lat            REAL NOT NULL,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT NOT NULL,
    generation_id  INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX resources_grid ON resources (grid_code, id);
CREATE INDEX resources_category ON resources (category, id);
CREATE INDEX resources_lon_lat ON resources (lon, lat);

CREATE TABLE hazards (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    category       TEXT NOT NULL,
    description    TEXT NOT NULL,
    severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    department     TEXT NOT NULL,
    status         TEXT NOT NULL,
    geometry       TEXT NOT NULL,
    lon            REAL NOT NULL,
    lat            REAL NOT NULL,
    street_code    TEXT,
    community_code TEXT,
    grid_code      TEXT,
    h3             TEXT NOT NULL,
    generation_id  INTEGER,
    due_at         TEXT,
    reported_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX hazards_grid ON hazards (grid_code, id);
CREATE INDEX hazards_status ON hazards (status, due_at);

CREATE TABLE hazard_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hazard_id   INTEGER NOT NULL REFERENCES hazards(id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, id);
