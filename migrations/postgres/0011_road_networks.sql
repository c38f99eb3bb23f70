-- Road networks for dispatch on real roads (issue 28): each import is a network; one is active (the one served).
-- Ways are kept as read: their routing tags as JSON and their nodes as bytes of (id, lon, lat) per node.
CREATE TABLE road_networks (
    id         BIGSERIAL PRIMARY KEY,
    source     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    ways       BIGINT NOT NULL,
    report     JSONB NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE road_ways (
    network_id BIGINT NOT NULL REFERENCES road_networks (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    way_id     BIGINT NOT NULL,
    tags       JSONB NOT NULL,
    nodes      BYTEA NOT NULL,
    PRIMARY KEY (network_id, seq)
);
