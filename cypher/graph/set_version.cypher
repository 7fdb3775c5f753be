// Record the version of the change just written (the lock is held: see graph/lock).
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.version = $version
