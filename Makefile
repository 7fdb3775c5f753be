# The two commands of the README, and their helpers. Every target is idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SG     := $(VENV)/bin/servicegraph
STAMP  := $(VENV)/.installed
# The embedded store `make run` uses.
STORE  ?= servicegraph.db

.PHONY: install run demo test lint typecheck bench neo4j-start neo4j-stop clean test-tools vendor

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## make run: the main job on the embedded store: load the example, print its impact
## report, then serve the dependency explorer and the HTTP API (two worker processes,
## each with the graph in memory, kept current through the store's change journal).
run: install
	SERVICEGRAPH_STORE=$(STORE) $(SG) demo
	@echo
	@echo "The dependency explorer: http://127.0.0.1:8000/   (API docs at /docs; Ctrl-C stops)"
	SERVICEGRAPH_STORE=$(STORE) exec $(SG) serve --workers 2

demo: install
	SERVICEGRAPH_STORE=$(STORE) $(SG) demo

lint: install
	$(PY) -m ruff check src api tests benchmarks notebooks

typecheck: install
	$(PY) -m mypy

## The page tests drive headless Chromium and the alert tests a real Alertmanager:
## Debian's chromium and prometheus-alertmanager, installed when missing
## (CI runs as root; elsewhere run `sudo apt-get install chromium prometheus-alertmanager`).
CHROMIUM ?= /usr/bin/chromium
ALERTMANAGER ?= /usr/bin/prometheus-alertmanager
test-tools:
	@missing=; test -x $(CHROMIUM) || missing="$$missing chromium"; \
	test -x $(ALERTMANAGER) || missing="$$missing prometheus-alertmanager"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's$$missing for the page and alert tests"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi
	@test -x $(CHROMIUM) || { echo "no browser at $(CHROMIUM): the page tests cannot run"; exit 1; }
	@test -x $(ALERTMANAGER) || { echo "no Alertmanager at $(ALERTMANAGER): the alert tests cannot run"; exit 1; }

## make vendor: fetch the page's vendored libraries again at their pinned versions
## (npm registry) and check them against their checksums.
vendor:
	scripts/vendor-page.sh

## make test: lint, types, then the whole suite against both stores with a real
## Neo4j started here (fetched from Maven Central on first use) and stopped after,
## the page in headless Chromium and the notebooks included.
## The Neo4j tests and the rest run side by side (scripts/test-suite.sh), each half
## printing its slowest tests. Set NEO4J_URI to test against a Neo4j of your own instead.
test: lint typecheck test-tools
	@set -e; \
	if [ -n "$$NEO4J_URI" ]; then uri="$$NEO4J_URI"; started=; \
	else uri=$$($(SG) neo4j start); started=1; fi; \
	echo "Neo4j for the tests: $$uri"; \
	status=0; NEO4J_URI="$$uri" scripts/test-suite.sh $(PY) || status=$$?; \
	if [ -n "$$started" ]; then $(SG) neo4j stop; fi; \
	exit $$status

## make bench TIER=S|M: the benchmark (S: 100k nodes, M: 1M nodes) against its targets,
## the engine against the naive ways, the API over HTTP on a local Neo4j it starts
## itself (heap and page cache sized for tier M); figures go to docs/benchmarks.md.
TIER ?= S
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m ruff check benchmarks
	$(PY) -m benchmarks --tier $(TIER)

neo4j-start: install
	$(SG) neo4j start

neo4j-stop: install
	$(SG) neo4j stop

clean:
	rm -rf $(VENV) .neo4j $(STORE) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
