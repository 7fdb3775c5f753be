// A full sync closes its source's open sessions: found by source and state.
CREATE INDEX sync_source_state IF NOT EXISTS
FOR (s:ServiceGraphSync) ON (s.source, s.state)
