// Record the outcome of a delivery attempt.
MATCH (e:ServiceGraphOutbox {uid: $uid})
SET e.state = $state, e.attempts = $attempts, e.next_at = $next_at, e.error = $error
