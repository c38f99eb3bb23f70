CREATE EXTENSION IF NOT EXISTS postgis;

-- Boundary generations: each is a snapshot of all three layers. A layer's features are stored once, by the
-- generation whose import wrote them; generation_layers says where each layer of a snapshot comes from.
CREATE TABLE generations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_id     BIGINT REFERENCES generations(id),
    description TEXT        NOT NULL,
    report      JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE generation_layers (
    generation_id        BIGINT NOT NULL REFERENCES generations(id),
    layer                TEXT   NOT NULL CHECK (layer IN ('streets', 'communities', 'grids')),
    source_generation_id BIGINT NOT NULL REFERENCES generations(id),
    feature_count        BIGINT NOT NULL,
    PRIMARY KEY (generation_id, layer)
);

CREATE TABLE features (
    generation_id BIGINT NOT NULL REFERENCES generations(id),
    layer         TEXT   NOT NULL CHECK (layer IN ('streets', 'communities', 'grids')),
    code          TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    parent_code   TEXT,
    properties    JSONB  NOT NULL,
    geom          geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (generation_id, layer, code)
);
CREATE INDEX features_geom_gist ON features USING gist (geom);

-- Activation history, a stack: the active generation is the newest entry not rolled back.
CREATE TABLE activations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    generation_id  BIGINT      NOT NULL REFERENCES generations(id),
    activated_at   TIMESTAMPTZ NOT NULL,
    rolled_back_at TIMESTAMPTZ
);
