// Forget the transitions older than $cutoff, except the last of each (node, layer) before
// it (the state at the cutoff is known from it), and note when this was done.
OPTIONAL MATCH (t:ServiceGraphTransition)
WHERE t.at < $cutoff AND EXISTS {
  MATCH (later:ServiceGraphTransition)
  WHERE later.node = t.node AND later.layer = t.layer AND later.at <= $cutoff
    AND later.seq > t.seq
}
WITH collect(t) AS gone
FOREACH (t IN gone | DELETE t)
WITH size(gone) AS forgotten
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.record_trimmed = $cutoff
RETURN forgotten
