// How many transitions the record keeps.
MATCH (t:ServiceGraphTransition)
RETURN count(t) AS n
