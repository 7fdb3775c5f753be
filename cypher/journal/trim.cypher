// Drop journal entries older than $cutoff and raise the floor to the newest one dropped,
// so a process further behind knows to read the whole graph instead.
MATCH (j:ServiceGraphJournal)
WHERE j.at < $cutoff AND j.version < $keep_from
WITH collect(j) AS old, max(j.version) AS last
FOREACH (j IN old | DELETE j)
WITH last WHERE last IS NOT NULL
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.journal_floor = CASE WHEN m.journal_floor > last THEN m.journal_floor ELSE last END
