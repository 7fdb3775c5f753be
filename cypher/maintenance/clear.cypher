// Remove every maintenance window (the graph is replaced: what they covered is gone).
MATCH (w:ServiceGraphWindow)
DELETE w
