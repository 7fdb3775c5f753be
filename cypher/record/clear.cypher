// Forget the whole record (the graph is started over); its numbers go on, and it reaches
// the version of the clearing change.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.recorded = $version
WITH m
OPTIONAL MATCH (t:ServiceGraphTransition)
DELETE t
WITH count(*) AS gone
OPTIONAL MATCH (k:ServiceGraphRecordKey)
DELETE k
