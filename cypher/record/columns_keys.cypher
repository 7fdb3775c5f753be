// The record's columns over [$start, $end) for the (node, layer) pairs $keys: per pair,
// its last transition before $start (a backward seek) and the period's (a range seek),
// in one statement: their packed figures and numbers, and the whole transition where it
// is down (a node's record lists its breaks' causes) or has no packed figures (written
// before them).
UNWIND $keys AS key
CALL (key) {
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = key.node AND t.layer = key.layer AND t.at < $start
  WITH t.at AS top ORDER BY t.node DESC, t.layer DESC, t.at DESC LIMIT 1
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = key.node AND t.layer = key.layer AND t.at = top
  RETURN t ORDER BY t.seq DESC LIMIT 1
  UNION ALL
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = key.node AND t.layer = key.layer AND t.at >= $start AND t.at < $end
  RETURN t
}
RETURN t.figures AS figures, t.seq AS seq,
       CASE WHEN t.figures IS NULL OR t.state = 'down' THEN t.payload END AS payload
