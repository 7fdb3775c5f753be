// Write alerts as they are, by (source, fingerprint); each keeps its JSON form.
UNWIND $rows AS row
MERGE (a:ServiceGraphAlert {uid: row.uid})
SET a.source = row.source,
    a.fingerprint = row.fingerprint,
    a.payload = row.payload
