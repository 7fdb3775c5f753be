// Delete every transition of the record in transactions of their own (a record of
// months does not fit in one transaction's memory); record/clear then starts it over.
MATCH (t:ServiceGraphTransition)
CALL (t) { DELETE t } IN TRANSACTIONS OF 10000 ROWS
