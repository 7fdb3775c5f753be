// Forget delivered events older than the retention (dead letters stay until redelivered).
MATCH (e:ServiceGraphOutbox {state: 'delivered'})
WHERE e.at < $before
WITH e LIMIT 10000
DELETE e
RETURN count(*) AS trimmed
