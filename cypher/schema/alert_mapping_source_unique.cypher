// One alert mapping per source.
CREATE CONSTRAINT alert_mapping_source_unique IF NOT EXISTS
FOR (m:ServiceGraphAlertMapping) REQUIRE m.source IS UNIQUE
