// A change of the graph is recorded once: one transition per (version, node, layer) at
// most. Transitions the clock caused carry no version and are not concerned.
CREATE CONSTRAINT record_once IF NOT EXISTS
FOR (t:ServiceGraphTransition) REQUIRE (t.version, t.node, t.layer) IS UNIQUE
