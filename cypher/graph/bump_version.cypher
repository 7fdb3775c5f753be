// Count writes, so every process serving the graph can tell its cache is stale.
MERGE (m:ServiceGraphMeta {key: 'graph'})
SET m.version = coalesce(m.version, 0) + 1
