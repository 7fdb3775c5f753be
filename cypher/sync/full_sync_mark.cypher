// A full sync of one source was committed at this version: sessions of the source
// opened before it can no longer commit.
MERGE (f:ServiceGraphFullSync {source: $source})
SET f.version = $version
