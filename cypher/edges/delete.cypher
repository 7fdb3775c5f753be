// Delete dependencies by their (source, target) pair.
UNWIND $rows AS row
MATCH (:Node {id: row.source})-[r:DEPENDS_ON]->(:Node {id: row.target})
DELETE r
