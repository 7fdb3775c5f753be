// Record the outcomes of delivery attempts, one transaction for a round's deliveries.
UNWIND $items AS item
MATCH (e:ServiceGraphOutbox {uid: item.uid})
SET e.state = item.state, e.attempts = item.attempts, e.next_at = item.next_at,
    e.error = item.error
