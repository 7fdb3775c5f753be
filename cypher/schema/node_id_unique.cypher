// Every node carries the shared label :Node, so one constraint makes ids unique
// across all kinds, and MERGE on :Node(id) is an index seek, not a label scan.
CREATE CONSTRAINT node_id_unique IF NOT EXISTS
FOR (n:Node) REQUIRE n.id IS UNIQUE
