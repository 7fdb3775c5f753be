// The write counter (0 before the first write).
OPTIONAL MATCH (m:ServiceGraphMeta {key: 'graph'})
RETURN coalesce(m.version, 0) AS version
