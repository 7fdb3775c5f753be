// Forget every sync session (the graph was cleared).
MATCH (n)
WHERE n:ServiceGraphSync OR n:ServiceGraphSyncPage
DELETE n
