// Append transitions to the record (the write lock is held: see graph/lock), numbered on
// from the meta node's counter, note each (node, layer) as known, and move how far the
// record reaches to $recorded (null: unchanged). $rows: at, node, layer, state, planned,
// version (null when the clock caused it), payload (JSON). One statement.
MATCH (m:ServiceGraphMeta {key: 'graph'})
WITH m, coalesce(m.record_seq, 0) AS base
UNWIND range(0, size($rows) - 1) AS i
WITH m, base, i, $rows[i] AS row
CREATE (t:ServiceGraphTransition)
SET t = row, t.seq = base + i + 1, t.figures = row.figures + '\u001F' + toString(base + i + 1)
MERGE (:ServiceGraphRecordKey {node: row.node, layer: row.layer})
WITH m, base, count(*) AS written
SET m.record_seq = base + written,
    m.recorded = CASE WHEN $recorded IS NOT NULL AND coalesce(m.recorded, 0) < $recorded
                      THEN $recorded ELSE m.recorded END
