// End a session (committed, abandoned, expired or superseded) and forget its pages'
// keys, if it is still open; answers the session as it is then.
MATCH (s:ServiceGraphSync {id: $id})
CALL (s) {
  WITH s WHERE s.state = 'open'
  SET s.state = $state
  WITH s
  OPTIONAL MATCH (p:ServiceGraphSyncPage {session: s.id})
  DELETE p
}
RETURN s {.*} AS session
