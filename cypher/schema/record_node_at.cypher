// The last transition of a node at or before a moment (time travel) is a backward seek.
CREATE INDEX record_node_at IF NOT EXISTS
FOR (t:ServiceGraphTransition) ON (t.node, t.layer, t.at)
