// Every node with its stored attributes.
MATCH (n:Node)
RETURN n {.*} AS row
ORDER BY n.id
