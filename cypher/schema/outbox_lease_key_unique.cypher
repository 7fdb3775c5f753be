// One dispatcher lease per graph: unique, so two processes starting at once cannot make two.
CREATE CONSTRAINT outbox_lease_key_unique IF NOT EXISTS
FOR (l:ServiceGraphOutboxLease) REQUIRE l.key IS UNIQUE
