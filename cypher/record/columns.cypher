// The record's columns over [$start, $end) for the layers $layers: each (node, layer)'s
// last transition before $start (a backward seek per key the record knows), then the
// period's (a range seek on the time index), as one list per field (one record: the
// rows are many, a record each would cost more than they do). The payload only where
// it is needed: for the causes ($causes), or for the providers of a transition written
// before they had a property of their own.
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
RETURN collect(t.node) AS node, collect(t.layer) AS layer, collect(t.at) AS at,
       collect(t.state) AS state, collect(t.planned) AS planned,
       collect(coalesce(t.providers, '')) AS providers,
       collect(CASE WHEN $causes OR t.providers IS NULL THEN t.payload ELSE '' END)
         AS payload,
       collect(t.seq) AS seq
