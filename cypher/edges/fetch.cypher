// Some dependencies by (source, target).
UNWIND $rows AS row
MATCH (:Node {id: row.source})-[r:DEPENDS_ON]->(:Node {id: row.target})
RETURN r {.*, source: row.source, target: row.target} AS row
