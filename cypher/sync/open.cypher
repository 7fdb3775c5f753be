// Open a sync session of one source, noting the version it opened at.
OPTIONAL MATCH (m:ServiceGraphMeta {key: 'graph'})
CREATE (s:ServiceGraphSync {id: $id, source: $source, opened_at: $opened_at,
                            expires_at: $expires_at, state: 'open', pages: 0, items: 0,
                            opened_version: coalesce(m.version, 0)})
RETURN s.opened_version AS opened_version
