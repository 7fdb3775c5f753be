// The last transition of each (node, layer) the record knows, with its number.
// `t.at IS NOT NULL` lets the (node, layer, at) index serve the per-key lookup, and the
// hint keeps it so: without both the planner scanned every transition for each key
// (minutes for 100,000 transitions, under the store's write lock).
MATCH (k:ServiceGraphRecordKey)
CALL (k) {
  MATCH (t:ServiceGraphTransition)
  USING INDEX t:ServiceGraphTransition(node, layer, at)
  WHERE t.node = k.node AND t.layer = k.layer AND t.at IS NOT NULL
  RETURN t ORDER BY t.at DESC, t.seq DESC LIMIT 1
}
RETURN t.seq AS seq, t.payload AS payload
ORDER BY seq
