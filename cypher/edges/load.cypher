// Every dependency as the live graph holds it (see nodes/load): no claims' text, no
// order; the projection is filled in from the fields' declaration.
MATCH (a:Node)-[r:DEPENDS_ON]->(b:Node)
RETURN r { {{edge_load}}, source: a.id, target: b.id } AS row
