// Take the session's write lock, then answer its state: pages and the commit check it
// is still open in their own transaction.
MATCH (s:ServiceGraphSync {id: $id})
SET s.touched_at = $at
RETURN s.state AS state
