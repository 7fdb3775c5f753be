// Every alert held, in its JSON form.
MATCH (a:ServiceGraphAlert)
RETURN a.payload AS payload
ORDER BY a.uid
