// The record's columns over [$start, $end) for the (node, layer) pairs $keys: per pair,
// its last transition before $start (a backward seek) and the period's (a range seek),
// in one statement, as one list per field. The payload only where it is needed: for
// the causes ($causes), or for the providers of a transition written before they had a
// property of their own.
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
RETURN collect(t.node) AS node, collect(t.layer) AS layer, collect(t.at) AS at,
       collect(t.state) AS state, collect(t.planned) AS planned,
       collect(coalesce(t.providers, '')) AS providers,
       collect(CASE WHEN $causes OR t.providers IS NULL THEN t.payload ELSE '' END)
         AS payload,
       collect(t.seq) AS seq
