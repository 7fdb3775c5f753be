// One outbox node per (subscription, sequence number): an event is never numbered twice.
CREATE CONSTRAINT outbox_uid_unique IF NOT EXISTS
FOR (e:ServiceGraphOutbox) REQUIRE e.uid IS UNIQUE
