// A sync session by id.
MATCH (s:ServiceGraphSync {id: $id})
RETURN s {.*} AS session
