// A page of the transitions with $start <= at < $end (a range seek on the time index), of
// $nodes and $layers when given, in time order, then in the order written.
MATCH (t:ServiceGraphTransition)
WHERE t.at >= $start AND t.at < $end
  AND ($nodes IS NULL OR t.node IN $nodes) AND ($layers IS NULL OR t.layer IN $layers)
RETURN t.payload AS payload
ORDER BY t.at, t.seq
SKIP $offset LIMIT $limit
