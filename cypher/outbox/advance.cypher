// Move the dispatcher's cursor, only while the caller holds the lease and the cursor is
// where the caller derived from (lock first, then check): a holder that lost the lease, or
// derived from a cursor another moved, writes nothing.
MATCH (l:ServiceGraphOutboxLease {key: 'dispatcher'})
SET l.locked_at = $now
WITH l
WHERE l.owner = $owner AND l.cursor = $cursor
SET l.cursor = $to, l.states = $states
RETURN count(l) AS advanced
