// The first pending event of each subscription: the one that holds back its later ones.
MATCH (e:ServiceGraphOutbox {state: 'pending'})
WITH e.subscription AS subscription, min(e.seq) AS seq
MATCH (h:ServiceGraphOutbox {uid: subscription + ' ' + toString(seq)})
RETURN h {.*} AS row
ORDER BY h.subscription
