// The record's columns over [$start, $end) for the layers $layers: each (node, layer)'s
// last transition before $start (a backward seek per key the record knows), then the
// period's (a range seek on the time index): their packed figures (one property read
// each, not six), as one list (a record each would cost more than the rows do), and the
// numbers of the transitions written before they had their figures.
CALL () {
  MATCH (k:ServiceGraphRecordKey)
  WHERE k.layer IN $layers
  CALL (k) {
    MATCH (t:ServiceGraphTransition)
    WHERE t.node = k.node AND t.layer = k.layer AND t.at < $start
    WITH t.at AS top ORDER BY t.node DESC, t.layer DESC, t.at DESC LIMIT 1
    MATCH (t:ServiceGraphTransition)
    WHERE t.node = k.node AND t.layer = k.layer AND t.at = top
    RETURN t ORDER BY t.seq DESC LIMIT 1
  }
  RETURN t
  UNION ALL
  MATCH (t:ServiceGraphTransition)
  WHERE t.at >= $start AND t.at < $end AND t.layer IN $layers
  RETURN t
}
RETURN collect(t.figures) AS figures,
       collect(CASE WHEN t.figures IS NULL THEN t.seq END) AS older
