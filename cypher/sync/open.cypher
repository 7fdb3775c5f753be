// Open a sync session of one source.
CREATE (s:ServiceGraphSync {id: $id, source: $source, opened_at: $opened_at,
                            expires_at: $expires_at, state: 'open', pages: 0, items: 0})
