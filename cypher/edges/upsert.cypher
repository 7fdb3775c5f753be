// Upsert a batch of dependencies. $rows: [{source, target, props}], props holding
// group, impact, claims (JSON text), claim_sources and retired_at.
// Both ends exist: the batch was validated against the stored graph first.
UNWIND $rows AS row
MATCH (a:Node {id: row.source})
MATCH (b:Node {id: row.target})
MERGE (a)-[r:DEPENDS_ON]->(b)
SET r += row.props
RETURN count(r) AS written
