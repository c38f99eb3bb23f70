-- Boundary generations: each is a snapshot of all three layers. A layer's features are stored once, by the
-- generation whose import wrote them; generation_layers says where each layer of a snapshot comes from.
CREATE TABLE generations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    base_id     INTEGER REFERENCES generations(id),
    description TEXT    NOT NULL,
    report      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

CREATE TABLE generation_layers (
    generation_id        INTEGER NOT NULL REFERENCES generations(id),
    layer                TEXT    NOT NULL CHECK (layer IN ('streets', 'communities', 'grids')),
    source_generation_id INTEGER NOT NULL REFERENCES generations(id),
    feature_count        INTEGER NOT NULL,
    PRIMARY KEY (generation_id, layer)
);

CREATE TABLE features (
    generation_id INTEGER NOT NULL REFERENCES generations(id),
    layer         TEXT    NOT NULL CHECK (layer IN ('streets', 'communities', 'grids')),
    code          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    parent_code   TEXT,
    properties    TEXT    NOT NULL,
    min_lon       REAL    NOT NULL,
    min_lat       REAL    NOT NULL,
    max_lon       REAL    NOT NULL,
    max_lat       REAL    NOT NULL,
    -- WKB MultiPolygon, EPSG:4326
    geom          BLOB    NOT NULL,
    PRIMARY KEY (generation_id, layer, code)
);

-- Activation history, a stack: the active generation is the newest entry not rolled back.
CREATE TABLE activations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    generation_id  INTEGER NOT NULL REFERENCES generations(id),
    activated_at   TEXT    NOT NULL,
    rolled_back_at TEXT
);
