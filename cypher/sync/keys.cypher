// Every key the pages of a session asserted.
MATCH (p:ServiceGraphSyncPage {session: $id})
RETURN p.nodes AS nodes, p.edge_sources AS edge_sources, p.edge_targets AS edge_targets
