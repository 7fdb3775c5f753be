// Take or renew the dispatcher's lease. The lock is taken first (the SET), then the holder
// is checked under it: reads are read-committed, so a check before the lock could let two
// processes take an expired lease at once.
MATCH (l:ServiceGraphOutboxLease {key: 'dispatcher'})
SET l.locked_at = $now
WITH l
WHERE l.owner IS NULL OR l.owner = $owner OR l.expires_at < $now
SET l.owner = $owner, l.expires_at = $until
RETURN l.cursor AS cursor, l.states AS states
