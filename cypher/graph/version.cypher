// The version of the last change written (0 before the first write).
OPTIONAL MATCH (m:ServiceGraphMeta {key: 'graph'})
RETURN coalesce(m.version, 0) AS version, coalesce(m.journal_floor, 0) AS floor
