-- Responders (grid workers, enforcement teams, vehicles) with their latest position, and the position history.
CREATE TABLE responders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    skills      TEXT NOT NULL,
    team        TEXT,
    home_grid   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('available', 'busy', 'off_duty')),
    lon         DOUBLE PRECISION,
    lat         DOUBLE PRECISION,
    position_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE responder_positions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    responder_id BIGINT           NOT NULL REFERENCES responders(id),
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    at           TIMESTAMPTZ      NOT NULL
);
CREATE INDEX responder_positions_responder ON responder_positions (responder_id, at);
