// Record the keys one page of a session asserted.
MATCH (s:ServiceGraphSync {id: $id})
SET s.pages = s.pages + 1, s.items = s.items + size($nodes) + size($edge_sources)
CREATE (:ServiceGraphSyncPage {session: $id, nodes: $nodes, edge_sources: $edge_sources,
                               edge_targets: $edge_targets})
