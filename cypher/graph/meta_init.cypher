// The meta node, made once: version 0, nothing trimmed from the journal yet, and the
// store's identity drawn at random (a meta node made before identities were kept gets one).
MERGE (m:ServiceGraphMeta {key: 'graph'})
ON CREATE SET m.version = 0, m.journal_floor = 0
SET m.identity = coalesce(m.identity, randomUUID())
