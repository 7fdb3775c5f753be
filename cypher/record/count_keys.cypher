// How many transitions have $start <= at < $end, of the (node, layer) pairs $keys.
UNWIND $keys AS key
MATCH (t:ServiceGraphTransition)
WHERE t.node = key.node AND t.layer = key.layer AND t.at >= $start AND t.at < $end
RETURN count(t) AS total
