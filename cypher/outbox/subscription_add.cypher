// Keep a new webhook subscription; its events are numbered from 1.
CREATE (s:ServiceGraphSubscription {id: $id, url: $url, secret: $secret, format: $format,
                                     filter: $filter, created_at: $created_at, next_seq: 0})
