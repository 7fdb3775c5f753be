// How far the record reaches: every transition of every change up to this version is
// written.
MATCH (m:ServiceGraphMeta {key: 'graph'})
RETURN coalesce(m.recorded, 0) AS recorded
