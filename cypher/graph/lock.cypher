// Take the write lock on the meta node, then read the version, the journal's floor and
// how far the record reaches under it: Cypher reads are read-committed, so only a lock
// held first makes check-then-bump safe between writers. One statement: a write's round
// trips are its cost.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.locked_at = $at
RETURN m.version AS version, m.journal_floor AS floor,
       coalesce(m.recorded, 0) AS recorded, m.record_trimmed AS trimmed
