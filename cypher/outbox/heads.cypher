// The first $each pending events of each subscription, in order: the first holds back
// the later ones, which the dispatcher sends after it in the same round.
MATCH (e:ServiceGraphOutbox {state: 'pending'})
WITH e ORDER BY e.subscription, e.seq
WITH e.subscription AS subscription, collect(e)[..$each] AS first
UNWIND first AS h
RETURN h {.*} AS row
ORDER BY h.subscription, h.seq
