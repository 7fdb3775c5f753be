// The version of the last full sync of one source (none: no row).
MATCH (f:ServiceGraphFullSync {source: $source})
RETURN f.version AS version
