// One journal entry per version; the constraint's index also serves reads by version.
CREATE CONSTRAINT journal_version_unique IF NOT EXISTS
FOR (j:ServiceGraphJournal) REQUIRE j.version IS UNIQUE
