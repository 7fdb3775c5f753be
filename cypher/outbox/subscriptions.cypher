// Every webhook subscription, oldest first.
MATCH (s:ServiceGraphSubscription)
RETURN s {.*} AS row
ORDER BY s.created_at, s.id
