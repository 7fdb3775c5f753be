"""The benchmark of servicegraph: ``python -m benchmarks --tier S|M`` (``make bench``).

One run generates a seeded synthetic enterprise, measures the impact engine in
process against the naive ways (scipy's compiled breadth-first search over the
same reach, networkx, the naive evaluator, a Cypher traversal in Neo4j), then
loads the graph into a local Neo4j through a running ``servicegraph serve`` and
measures the API: ingest, re-push, questions, status pushes, freshness,
start-up, two workers, memory. It prints one table and writes
``docs/benchmarks.md``.
"""
