// Write maintenance windows as they are, by id; each keeps its JSON form.
UNWIND $rows AS row
MERGE (w:ServiceGraphWindow {id: row.id})
SET w.payload = row.payload
