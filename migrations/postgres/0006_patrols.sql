-- Patrol tracks (铁脚板) and the H3 cells they passed, for per-grid coverage. track is the fixes as received
-- (JSON [[lon, lat, "at"], …], WGS84); patrol_cells holds each cell once per patrol with the grid of the first
-- sample in it and when it was reached.
CREATE TABLE patrols (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    responder_id  BIGINT NOT NULL REFERENCES responders(id),
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ NOT NULL,
    points        INTEGER NOT NULL,
    length_m      DOUBLE PRECISION NOT NULL,
    resolution    INTEGER NOT NULL,
    generation_id BIGINT,
    track         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX patrols_responder ON patrols (responder_id, started_at);

CREATE TABLE patrol_cells (
    patrol_id BIGINT NOT NULL REFERENCES patrols(id),
    cell      TEXT NOT NULL,
    grid_code TEXT,
    first_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (patrol_id, cell)
);
CREATE INDEX patrol_cells_cell ON patrol_cells (cell, first_at);
CREATE INDEX patrol_cells_grid ON patrol_cells (grid_code, first_at);
