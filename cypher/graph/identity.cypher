// Which store this is (see graph/meta_init).
MATCH (m:ServiceGraphMeta {key: 'graph'})
RETURN m.identity AS identity
