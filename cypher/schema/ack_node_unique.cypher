// One node per acknowledged graph node, keyed by that node's id.
CREATE CONSTRAINT ack_node_unique IF NOT EXISTS
FOR (a:ServiceGraphAck) REQUIRE a.node IS UNIQUE
