// Every acknowledgement kept (active and ended), in its JSON form.
MATCH (a:ServiceGraphAck)
RETURN a.payload AS payload
ORDER BY a.node
