-- Road networks for dispatch on real roads (issue 28): each import is a network; one is active (the one served).
-- Ways are kept as read: their routing tags as JSON and their nodes as a blob of (id, lon, lat) per node.
CREATE TABLE road_networks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ways       INTEGER NOT NULL,
    report     TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE road_ways (
    network_id INTEGER NOT NULL REFERENCES road_networks (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    way_id     INTEGER NOT NULL,
    tags       TEXT NOT NULL,
    nodes      BLOB NOT NULL,
    PRIMARY KEY (network_id, seq)
);
