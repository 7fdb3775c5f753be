// The last transition of each (node, layer) at $at ($inclusive) or before it: one
// backward seek per (node, layer) the record knows, of $nodes and $layers when given.
MATCH (k:ServiceGraphRecordKey)
WHERE ($nodes IS NULL OR k.node IN $nodes) AND ($layers IS NULL OR k.layer IN $layers)
CALL (k) {
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = k.node AND t.layer = k.layer AND t.at <= $at
    AND ($inclusive OR t.at < $at)
  RETURN t ORDER BY t.at DESC, t.seq DESC LIMIT 1
}
RETURN t.payload AS payload
ORDER BY k.node, k.layer
