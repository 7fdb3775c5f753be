# The two commands of the README, and their helpers. Every target is idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SG     := $(VENV)/bin/servicegraph
STAMP  := $(VENV)/.installed
# The embedded store `make run` uses.
STORE  ?= servicegraph.db

.PHONY: install run demo test lint typecheck bench neo4j-start neo4j-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## make run: the main job on the embedded store: load the example, print its impact
## report, then serve the HTTP API (http://127.0.0.1:8000, docs at /docs).
run: install
	SERVICEGRAPH_STORE=$(STORE) $(SG) demo
	SERVICEGRAPH_STORE=$(STORE) exec $(SG) serve

demo: install
	SERVICEGRAPH_STORE=$(STORE) $(SG) demo

lint: install
	$(PY) -m ruff check src api tests

typecheck: install
	$(PY) -m mypy

## make test: lint, types, then the whole suite against both stores with a real
## Neo4j started here (fetched from Maven Central on first use) and stopped after.
## Set NEO4J_URI to test against a Neo4j of your own instead.
test: lint typecheck
	@set -e; \
	if [ -n "$$NEO4J_URI" ]; then uri="$$NEO4J_URI"; started=; \
	else uri=$$($(PY) -m servicegraph.neo4j_local start); started=1; fi; \
	echo "Neo4j for the tests: $$uri"; \
	status=0; NEO4J_URI="$$uri" $(PY) -m pytest --doctest-modules src api tests || status=$$?; \
	if [ -n "$$started" ]; then $(PY) -m servicegraph.neo4j_local stop; fi; \
	if [ $$status -eq 5 ]; then echo "pytest ran no tests: that is a failure"; fi; \
	exit $$status

## make bench: the impact engine against the naive evaluator, and alone at 1M nodes;
## figures go to docs/benchmarks.md.
bench: install
	$(PY) benchmarks/impact_bench.py --out docs/benchmarks.md

neo4j-start: install
	$(SG) neo4j start

neo4j-stop: install
	$(SG) neo4j stop

clean:
	rm -rf $(VENV) .neo4j $(STORE) .pytest_cache .mypy_cache .ruff_cache .hypothesis
