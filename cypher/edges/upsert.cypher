// Upsert a batch of dependencies. $rows: [{source, target, group, impact}].
// Both ends exist: the batch was validated against the stored graph first.
UNWIND $rows AS row
MATCH (a:Node {id: row.source})
MATCH (b:Node {id: row.target})
MERGE (a)-[r:DEPENDS_ON]->(b)
SET r.group = row.group, r.impact = row.impact
RETURN count(r) AS written
