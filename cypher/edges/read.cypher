// Every dependency.
MATCH (a:Node)-[r:DEPENDS_ON]->(b:Node)
RETURN r {.*, source: a.id, target: b.id} AS row
ORDER BY a.id, b.id
