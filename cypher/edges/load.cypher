// Every dependency as the live graph holds it (see nodes/load): no claims' text, no order.
MATCH (a:Node)-[r:DEPENDS_ON]->(b:Node)
RETURN r {.group, .impact, .claim_sources, .retired_at, source: a.id, target: b.id} AS row
