// Journal entries after a version, oldest first.
MATCH (j:ServiceGraphJournal)
WHERE j.version > $since
RETURN j {.*} AS record
ORDER BY j.version
