// Queue a dead letter again, at once.
MATCH (e:ServiceGraphOutbox {subscription: $subscription, event_id: $event_id})
WHERE e.state = 'dead'
SET e.state = 'pending', e.attempts = 0, e.next_at = $now, e.error = null
RETURN count(e) AS queued
