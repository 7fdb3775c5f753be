// Forget a subscription and every event of its outbox.
MATCH (s:ServiceGraphSubscription {id: $id})
OPTIONAL MATCH (e:ServiceGraphOutbox {subscription: $id})
WITH s, collect(e) AS events
FOREACH (e IN events | DELETE e)
DELETE s
RETURN count(s) AS removed
