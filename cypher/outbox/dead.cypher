// A subscription's dead letters, in order.
MATCH (e:ServiceGraphOutbox {subscription: $subscription})
WHERE e.state = 'dead'
RETURN e {.*} AS row
ORDER BY e.seq
