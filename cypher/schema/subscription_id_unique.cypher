// One node per webhook subscription; the constraint's index serves reads by id.
CREATE CONSTRAINT subscription_id_unique IF NOT EXISTS
FOR (s:ServiceGraphSubscription) REQUIRE s.id IS UNIQUE
