// Every (node, layer) the record knows, once: time travel seeks each one's last
// transition instead of reading the whole record.
CREATE CONSTRAINT record_key_unique IF NOT EXISTS
FOR (k:ServiceGraphRecordKey) REQUIRE (k.node, k.layer) IS UNIQUE
