// Every maintenance window, in its JSON form.
MATCH (w:ServiceGraphWindow)
RETURN w.payload AS payload
ORDER BY w.id
