// One webhook subscription by id.
MATCH (s:ServiceGraphSubscription {id: $id})
RETURN s {.*} AS row
