// The record now reaches $version: every transition of every change up to it is written.
MATCH (m:ServiceGraphMeta {key: 'graph'})
SET m.recorded = CASE WHEN coalesce(m.recorded, 0) < $version THEN $version
                      ELSE m.recorded END
