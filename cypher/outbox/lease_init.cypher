// The dispatcher's lease, made once: no holder, no events derived yet (cursor -1).
MERGE (l:ServiceGraphOutboxLease {key: 'dispatcher'})
ON CREATE SET l.owner = null, l.expires_at = '', l.cursor = -1, l.states = '{}'
