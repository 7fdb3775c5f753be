// A page of the transitions with $start <= at < $end of the (node, layer) pairs $keys, in
// time order, then in the order written: a range seek per pair on the (node, layer, at)
// index, not a scan of the whole period.
UNWIND $keys AS key
MATCH (t:ServiceGraphTransition)
WHERE t.node = key.node AND t.layer = key.layer AND t.at >= $start AND t.at < $end
RETURN t.payload AS payload
ORDER BY t.at, t.seq
SKIP $offset LIMIT $limit
