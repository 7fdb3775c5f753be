// Take the write lock on the meta node, then read the version, the journal's floor and
// the record's state under it (how far it reaches, its last sequence number, when it was
// last trimmed): Cypher reads are read-committed, so only a lock held first makes
// check-then-bump safe between writers. One statement: a write's round trips are its cost.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.locked_at = $at
RETURN m.version AS version, m.journal_floor AS floor,
       coalesce(m.recorded, 0) AS recorded, coalesce(m.record_seq, 0) AS record_seq,
       m.record_trimmed AS trimmed
