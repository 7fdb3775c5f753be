// Every alert mapping, in its JSON form.
MATCH (m:ServiceGraphAlertMapping)
RETURN m.payload AS payload
ORDER BY m.source
