// Every write trims the journal of entries older than the retention cutoff; this index
// makes that a range seek instead of a scan of the whole journal.
CREATE INDEX journal_at IF NOT EXISTS
FOR (j:ServiceGraphJournal) ON (j.at)
