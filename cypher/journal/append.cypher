// One journal entry: $record holds version, at, kind, source, reload and payload (JSON).
CREATE (j:ServiceGraphJournal)
SET j = $record
