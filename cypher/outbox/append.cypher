// Append one subscription's events to its outbox, numbered after its last.
MATCH (s:ServiceGraphSubscription {id: $subscription})
SET s.next_seq = s.next_seq + size($events)
WITH s, s.next_seq - size($events) AS base
UNWIND range(0, size($events) - 1) AS i
WITH s, base + i + 1 AS seq, $events[i] AS event
CREATE (:ServiceGraphOutbox {uid: s.id + ' ' + toString(seq), subscription: s.id, seq: seq,
                             event_id: event.event_id, kind: event.kind, at: event.at,
                             payload: event.payload, state: 'pending', attempts: 0,
                             next_at: event.at, error: null})
