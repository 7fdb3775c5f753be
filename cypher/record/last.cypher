// The last transition of each (node, layer) at $at ($inclusive) or before it: per
// (node, layer) the record knows, of $nodes and $layers when given, one backward seek
// in index order to its last moment, then the last written at that moment (a tie).
MATCH (k:ServiceGraphRecordKey)
WHERE ($nodes IS NULL OR k.node IN $nodes) AND ($layers IS NULL OR k.layer IN $layers)
CALL (k) {
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = k.node AND t.layer = k.layer AND t.at <= $at
    AND ($inclusive OR t.at < $at)
  WITH t.at AS top ORDER BY t.node DESC, t.layer DESC, t.at DESC LIMIT 1
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = k.node AND t.layer = k.layer AND t.at = top
  RETURN t ORDER BY t.seq DESC LIMIT 1
}
RETURN t.payload AS payload
ORDER BY k.node, k.layer
