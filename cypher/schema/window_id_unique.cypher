// One node per maintenance window, keyed by its id.
CREATE CONSTRAINT window_id_unique IF NOT EXISTS
FOR (w:ServiceGraphWindow) REQUIRE w.id IS UNIQUE
