// One node per alert, keyed by its source and fingerprint.
CREATE CONSTRAINT alert_uid_unique IF NOT EXISTS
FOR (a:ServiceGraphAlert) REQUIRE a.uid IS UNIQUE
