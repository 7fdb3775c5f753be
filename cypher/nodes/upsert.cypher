// Upsert a batch of nodes. $rows: [{id, label, props}], where label is mapped
// from the node-kind enum by the store (never taken from input), and props holds
// scalars and string lists (null removes an attribute), never the observed state.
UNWIND $rows AS row
MERGE (n:Node {id: row.id})
SET n += row.props
REMOVE n:Promise:BusinessService:ServiceAct:ServiceSystem:CI
SET n:$(row.label)
