// One node per sync session; the constraint's index serves reads by id.
CREATE CONSTRAINT sync_id_unique IF NOT EXISTS
FOR (s:ServiceGraphSync) REQUIRE s.id IS UNIQUE
