// Delete nodes by id, with their dependencies in both directions.
UNWIND $ids AS id
MATCH (n:Node {id: id})
DETACH DELETE n
