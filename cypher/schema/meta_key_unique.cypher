// One meta node per graph: the version counter and the journal's floor. Unique, so two
// processes starting at once cannot make two.
CREATE CONSTRAINT meta_key_unique IF NOT EXISTS
FOR (m:ServiceGraphMeta) REQUIRE m.key IS UNIQUE
