// Write observed states only: a node's other attributes are left as they are.
UNWIND $rows AS row
MATCH (n:Node {id: row.id})
SET n.observed_state = row.observed_state,
    n.observed_at = row.observed_at,
    n.observed_source = row.observed_source
