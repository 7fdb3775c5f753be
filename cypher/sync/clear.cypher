// Forget every sync session and full-sync mark (the graph was cleared).
MATCH (n)
WHERE n:ServiceGraphSync OR n:ServiceGraphSyncPage OR n:ServiceGraphFullSync
DELETE n
