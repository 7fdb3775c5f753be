// How many transitions have $start <= at < $end, of $nodes and $layers when given.
MATCH (t:ServiceGraphTransition)
WHERE t.at >= $start AND t.at < $end
  AND ($nodes IS NULL OR t.node IN $nodes) AND ($layers IS NULL OR t.layer IN $layers)
RETURN count(t) AS total
