// Give the dispatcher's lease up now, if the caller holds it.
MATCH (l:ServiceGraphOutboxLease {key: 'dispatcher'})
SET l.locked_at = $now
WITH l
WHERE l.owner = $owner
SET l.owner = null, l.expires_at = $now
