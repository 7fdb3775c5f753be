// End a session (committed or abandoned) and forget its pages' keys.
MATCH (s:ServiceGraphSync {id: $id})
WHERE s.state = 'open'
SET s.state = $state
WITH s
OPTIONAL MATCH (p:ServiceGraphSyncPage {session: s.id})
DELETE p
