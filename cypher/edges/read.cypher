// Every dependency.
MATCH (a:Node)-[r:DEPENDS_ON]->(b:Node)
RETURN a.id AS source, b.id AS target, r.group AS group, r.impact AS impact
ORDER BY source, target
