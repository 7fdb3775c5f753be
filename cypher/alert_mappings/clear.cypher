// Remove every alert mapping (the graph is replaced: what they named is gone).
MATCH (m:ServiceGraphAlertMapping)
DELETE m
