// The last transition of each (node, layer) the record knows, with its number.
MATCH (k:ServiceGraphRecordKey)
CALL (k) {
  MATCH (t:ServiceGraphTransition)
  WHERE t.node = k.node AND t.layer = k.layer
  RETURN t ORDER BY t.at DESC, t.seq DESC LIMIT 1
}
RETURN t.seq AS seq, t.payload AS payload
ORDER BY seq
