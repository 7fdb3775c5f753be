// One node per source that committed a full sync: the version of its last one.
CREATE CONSTRAINT full_sync_source_unique IF NOT EXISTS
FOR (f:ServiceGraphFullSync) REQUIRE f.source IS UNIQUE
