// Remove every alert (the graph is replaced: what they were about is gone).
MATCH (a:ServiceGraphAlert)
DELETE a
