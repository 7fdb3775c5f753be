// Every node as the live graph holds it, for a process reading the whole graph: the
// claims' full text stays in the store (fetched per item when a write needs it) and no
// order is asked for (the live graph orders ids itself), so Neo4j streams the rows as
// it scans instead of sorting them first. The projection is filled in from the
// fields' declaration.
MATCH (n:Node)
RETURN n { {{node_load}} } AS row
