// Some nodes by id, with every stored attribute.
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n {.*} AS row
