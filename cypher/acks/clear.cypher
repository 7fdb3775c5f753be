// Remove every acknowledgement (the graph is replaced: what they named is gone).
MATCH (a:ServiceGraphAck)
DELETE a
