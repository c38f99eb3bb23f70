-- Responders (grid workers, enforcement teams, vehicles) with their latest position, and the position history.
CREATE TABLE responders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    skills      TEXT NOT NULL,
    team        TEXT,
    home_grid   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('available', 'busy', 'off_duty')),
    lon         REAL,
    lat         REAL,
    position_at TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE responder_positions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    responder_id INTEGER NOT NULL REFERENCES responders(id),
    lon          REAL    NOT NULL,
    lat          REAL    NOT NULL,
    at           TEXT    NOT NULL
);
CREATE INDEX responder_positions_responder ON responder_positions (responder_id, at);
