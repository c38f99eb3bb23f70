-- A responder is on at most one incident at a time. Databases written before this rule may hold a responder on
-- several incidents (a status change used to make them available while assigned): all but their newest open
-- assignment are released first, with the reason recorded, then the rule becomes a unique index so racing requests
-- cannot break it either.
UPDATE assignments a
SET released_at = now(),
    released_by = 'migration 0010',
    release_reason = 'released: a responder is on one incident at a time (kept their newest assignment)'
WHERE a.released_at IS NULL
  AND a.id < (SELECT MAX(b.id) FROM assignments b WHERE b.responder_id = a.responder_id AND b.released_at IS NULL);
CREATE UNIQUE INDEX assignments_one_open_per_responder ON assignments (responder_id) WHERE released_at IS NULL;
