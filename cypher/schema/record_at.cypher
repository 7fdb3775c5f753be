// The transitions of a period (the timeline, the record's figures) are a range seek.
CREATE INDEX record_at IF NOT EXISTS
FOR (t:ServiceGraphTransition) ON (t.at)
