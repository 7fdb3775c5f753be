// Forget the whole record (the graph is started over): its numbers start again, and it
// reaches the version of the clearing change.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.recorded = $version, m.record_seq = 0
WITH m
OPTIONAL MATCH (t:ServiceGraphTransition)
DELETE t
WITH count(*) AS gone
OPTIONAL MATCH (k:ServiceGraphRecordKey)
DELETE k
