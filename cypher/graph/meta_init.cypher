// The meta node, made once: version 0, nothing trimmed from the journal yet.
MERGE (m:ServiceGraphMeta {key: 'graph'})
ON CREATE SET m.version = 0, m.journal_floor = 0
