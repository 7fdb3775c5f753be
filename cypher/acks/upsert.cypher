// Write acknowledgements as they are, by node (a node keeps its latest); each keeps its
// JSON form.
UNWIND $rows AS row
MERGE (a:ServiceGraphAck {node: row.node})
SET a.payload = row.payload
