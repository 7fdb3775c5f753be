// The promise record's transitions are numbered in the order written: a process follows
// the record from the last number it read, a seek on this constraint's index.
CREATE CONSTRAINT record_seq_unique IF NOT EXISTS
FOR (t:ServiceGraphTransition) REQUIRE t.seq IS UNIQUE
