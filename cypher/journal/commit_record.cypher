// journal/commit and record/append in one statement (a write's round trips are its
// cost): the change's journal entry, the new version and the journal trimmed as there,
// then its transitions ($rows, possibly none) numbered on from the record's counter,
// each (node, layer) noted as known, and how far the record reaches moved to $recorded
// (null: unchanged).
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.version = $record.version
CREATE (j:ServiceGraphJournal)
SET j = $record
WITH m
OPTIONAL MATCH (old:ServiceGraphJournal)
USING INDEX old:ServiceGraphJournal(at)
WHERE old.at < $cutoff AND old.version < $record.version
WITH m, collect(old) AS gone, max(old.version) AS last
FOREACH (o IN gone | DELETE o)
SET m.journal_floor = CASE WHEN last IS NOT NULL AND last > m.journal_floor THEN last
                           ELSE m.journal_floor END
WITH m, coalesce(m.record_seq, 0) AS base
FOREACH (i IN range(0, size($rows) - 1) |
  CREATE (t:ServiceGraphTransition)
  SET t = $rows[i], t.seq = base + i + 1,
      t.figures = $rows[i].figures + '\u001F' + toString(base + i + 1)
  MERGE (:ServiceGraphRecordKey {node: $rows[i].node, layer: $rows[i].layer}))
SET m.record_seq = base + size($rows),
    m.recorded = CASE WHEN $recorded IS NOT NULL AND coalesce(m.recorded, 0) < $recorded
                      THEN $recorded ELSE m.recorded END
