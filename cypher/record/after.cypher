// Every transition written after sequence number $seq, in the order written.
MATCH (t:ServiceGraphTransition)
WHERE t.seq > $seq
RETURN t.seq AS seq, t.payload AS payload
ORDER BY t.seq
