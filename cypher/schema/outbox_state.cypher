// The dispatcher finds each subscription's first pending event by state, subscription and
// number.
CREATE INDEX outbox_state IF NOT EXISTS
FOR (e:ServiceGraphOutbox) ON (e.state, e.subscription, e.seq)
