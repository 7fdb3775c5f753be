// A subscription's events are read (dead letters) and removed with it by subscription.
CREATE INDEX outbox_subscription IF NOT EXISTS
FOR (e:ServiceGraphOutbox) ON (e.subscription, e.event_id)
