// The whole transitions numbered $seqs (a seek each on the numbers' index).
MATCH (t:ServiceGraphTransition)
WHERE t.seq IN $seqs
RETURN t.seq AS seq, t.payload AS payload
