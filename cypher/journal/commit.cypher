// Record a change (the lock is held: see graph/lock): its journal entry ($record: version,
// at, kind, source, reload, payload as JSON), the new version, and the journal trimmed of
// entries older than $cutoff (null: none) with the floor raised to the newest one dropped,
// so a process further behind knows to read the whole graph instead. One statement.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.version = $record.version
CREATE (j:ServiceGraphJournal)
SET j = $record
WITH m
OPTIONAL MATCH (old:ServiceGraphJournal)
// A seek on the time index: the journal may hold many entries, few of them expired.
USING INDEX old:ServiceGraphJournal(at)
WHERE old.at < $cutoff AND old.version < $record.version
WITH m, collect(old) AS gone, max(old.version) AS last
FOREACH (o IN gone | DELETE o)
SET m.journal_floor = CASE WHEN last IS NOT NULL AND last > m.journal_floor THEN last
                           ELSE m.journal_floor END
