// Forget every subscription and the outbox, and free the lease.
OPTIONAL MATCH (n)
WHERE n:ServiceGraphSubscription OR n:ServiceGraphOutbox
DETACH DELETE n
WITH count(*) AS gone
MATCH (l:ServiceGraphOutboxLease {key: 'dispatcher'})
SET l.owner = null, l.expires_at = '', l.cursor = -1, l.states = '{}'
