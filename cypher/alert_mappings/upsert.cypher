// Write alert mappings as they are, one per source; each keeps its JSON form.
UNWIND $rows AS row
MERGE (m:ServiceGraphAlertMapping {source: row.source})
SET m.payload = row.payload
