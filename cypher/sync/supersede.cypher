// A full sync of one source is being committed: the source's sessions still open can
// no longer commit (they would retire what it asserted). Close them as superseded and
// forget their pages' keys; a session this change commits was closed first.
MATCH (s:ServiceGraphSync {source: $source, state: 'open'})
SET s.state = 'superseded'
WITH s
OPTIONAL MATCH (p:ServiceGraphSyncPage {session: s.id})
DELETE p
