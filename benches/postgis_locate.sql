-- The PostGIS reference for the full answer, given its best shot: the active generation's layers as three plain
-- tables with GiST indexes (setup, untimed), then for each point the lowest-code street, community and grid that
-- ST_Covers it ($1 lon[], $2 lat[]), as GiST-indexed lateral joins (timed).
SELECT t.i,
    (SELECT min(s.code COLLATE "C") FROM bench_streets s WHERE ST_Covers(s.geom, q.p)),
    (SELECT min(c.code COLLATE "C") FROM bench_communities c WHERE ST_Covers(c.geom, q.p)),
    (SELECT min(g.code COLLATE "C") FROM bench_grids g WHERE ST_Covers(g.geom, q.p))
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, i)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(t.x, t.y), 4326) AS p) q
ORDER BY t.i
