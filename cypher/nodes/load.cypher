// Every node as the live graph holds it, for a process reading the whole graph: the
// claims' full text stays in the store (fetched per item when a write needs it) and no
// order is asked for (the live graph orders ids itself), so Neo4j streams the rows as
// it scans instead of sorting them first.
MATCH (n:Node)
RETURN n {.id, .kind, .name, .owner, .provider, .visible, .silo, .description, .source,
          .external_id, .properties, .redundancy, .claim_keys, .retired_at,
          .observed_state, .observed_at, .observed_source} AS row
