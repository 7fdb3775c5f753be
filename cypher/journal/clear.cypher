// Forget every journal entry before $version (after the graph was cleared).
MATCH (j:ServiceGraphJournal)
WHERE j.version < $version
DELETE j
WITH count(*) AS dropped
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.journal_floor = $version - 1
