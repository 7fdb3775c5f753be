// Take the write lock on the meta node before reading the version: Cypher reads are
// read-committed, so only a lock held first makes check-then-bump safe between writers.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.locked_at = $at
