"""The Compose and Backstage importers on public files as their projects publish them
(tests/data/airflow, tests/data/voting-app, tests/data/backstage-showcase).

Each expected dependency is written out by hand, as a careful reader finds it in the
files, with the line of the file that states it; the importers must find exactly those.
So must the notes the docs promise: services behind `profiles`, and `depends_on`
entries that only order start-up or wait for a one-off job.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from servicegraph.cli import app
from servicegraph.core import ServiceGraph
from servicegraph.importers import Imported, SourceFile, parse, run_import
from servicegraph.importers.compose import interpolate, interpolated
from servicegraph.importers.directories import expand
from servicegraph.model.errors import ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind
from servicegraph.store import GraphStore

DATA = Path(__file__).parent / "data"


def read(kind: str, *given: Path) -> tuple[Imported, list[Path], list[str]]:
    """What the command line reads for ``given`` (directories, Locations), parsed."""
    paths, notes = expand(kind, list(given), lambda p: p.read_text(encoding="utf-8"))
    files = [SourceFile(p.relative_to(DATA).as_posix(), p.read_text(encoding="utf-8"))
             for p in paths]
    return parse(kind, files), paths, notes


def calls(imp: Imported) -> set[tuple[str, str]]:
    """Every dependency but a service's on its own replicas."""
    return {e.key for e in imp.graph.edges if e.group != "replicas"}


def replicas(imp: Imported) -> dict[str, int]:
    return {n.id: n.properties["replicas"] for n in imp.graph.nodes
            if "replicas" in n.properties}


# Airflow's services share `x-airflow-common` (merged with `<<:`): its environment names
# postgres (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, AIRFLOW__CELERY__RESULT_BACKEND) and redis
# (AIRFLOW__CELERY__BROKER_URL), and its depends_on waits for both to be healthy.
AIRFLOW_COMMON = {"redis", "postgres"}
#: The services that also wait for airflow-init to complete (their own depends_on).
AFTER_INIT = ("airflow-webserver", "airflow-scheduler", "airflow-worker", "airflow-triggerer",
              "flower")
AIRFLOW = {
    # postgres: `postgres-db-volume:/var/lib/postgresql/data`, declared under `volumes`.
    ("postgres", "volume/postgres-db-volume"),
    # airflow-init and airflow-cli: only the common part (the init's own volume
    # `${AIRFLOW_PROJ_DIR:-.}:/sources` is a bind mount of a host folder).
    *{("airflow-init", t) for t in AIRFLOW_COMMON},
    *{("airflow-cli", t) for t in AIRFLOW_COMMON},
    # The five long-running services: the common part and airflow-init.
    *{(s, t) for s in AFTER_INIT for t in (*AIRFLOW_COMMON, "airflow-init")},
}


def test_airflow_compose_dependencies_volumes_profiles_and_one_off_job() -> None:
    imp, paths, notes = read("compose", DATA / "airflow")
    assert [p.name for p in paths] == ["docker-compose.yaml"] and notes == []
    assert calls(imp) == AIRFLOW
    assert all(e.impact is Impact.HARD for e in imp.graph.edges)
    nodes = imp.graph.node_map()
    # Nine services, one replica each (no deploy.replicas, no scale); the bind mounts of
    # dags, logs, config and plugins are host folders, not CIs.
    assert replicas(imp) == {s: 1 for s in (
        "postgres", "redis", "airflow-init", "airflow-cli", *AFTER_INIT)}
    cis = sorted(n.id for n in imp.graph.nodes if n.kind is NodeKind.CI
                 and not n.id.split("/")[-1].startswith("replica-"))
    assert cis == ["volume/postgres-db-volume"]
    assert nodes["volume/postgres-db-volume"].silo == "containers"
    # The image is interpolated with its default (no .env given).
    assert nodes["airflow-webserver"].properties["image"] == "apache/airflow:|version|"
    # Each dependency of the webserver is named with what it was read from.
    assert {(i.target, i.field) for i in imp.inferred if i.source == "airflow-webserver"} == {
        ("redis", "depends_on"), ("postgres", "depends_on"), ("airflow-init", "depends_on"),
        ("postgres", "environment.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"),
        ("postgres", "environment.AIRFLOW__CELERY__RESULT_BACKEND"),
        ("redis", "environment.AIRFLOW__CELERY__BROKER_URL")}
    assert nodes["airflow-webserver"].properties["inferred_edges"]["airflow-init"] == \
        "depends_on (service_completed_successfully)"
    # Notes: the two services behind profiles, and the five waits for the one-off job.
    # Nothing only orders start-up (every condition is service_healthy or
    # service_completed_successfully).
    assert len(imp.notes) == 3, imp.notes
    assert imp.notes[0] == ("airflow/docker-compose.yaml line 248: service airflow-cli has "
                            "profiles (debug): started only with --profile, imported like "
                            "the others")
    assert imp.notes[1].startswith("airflow/docker-compose.yaml line 264: service flower "
                                   "has profiles (flower)")
    assert imp.notes[2].startswith(
        "5 depends_on entries wait for a one-off job to finish (condition "
        "service_completed_successfully), e.g. airflow-webserver -> airflow-init: read as "
        "hard dependencies")
    # Every address names a service of the file; redis needs nothing.
    assert imp.unresolved == ()
    assert imp.without_dependencies == ("redis",)


VOTING = {
    # vote writes votes to redis, worker moves them to db, result reads db.
    ("vote", "redis"), ("result", "db"), ("worker", "redis"), ("worker", "db"),
    # db: `db-data:/var/lib/postgresql/data`, declared under `volumes`.
    ("db", "volume/db-data"),
}


def test_voting_app_compose_file_waits_for_health() -> None:
    imp, _, _ = read("compose", DATA / "voting-app" / "docker-compose.yml")
    # Each depends_on has condition service_healthy; ./vote, ./result and ./healthchecks
    # are bind mounts.
    assert calls(imp) == VOTING
    assert {i.field for i in imp.inferred} == {"depends_on", "volumes"}
    assert replicas(imp) == {"vote": 1, "result": 1, "worker": 1, "redis": 1, "db": 1}
    assert imp.notes == ()  # no profiles, nothing only ordering start-up
    assert imp.without_dependencies == ("redis",)


def test_voting_app_stack_file_replicas_and_start_up_order() -> None:
    imp, _, _ = read("compose", DATA / "voting-app" / "docker-stack.yml")
    # The same dependencies, depends_on in the list form; the visualizer mounts the
    # Docker socket (a host path) and needs nothing.
    assert calls(imp) == VOTING
    # deploy.replicas: vote 2, redis, result and worker 1; db and visualizer say none.
    assert replicas(imp) == {"vote": 2, "result": 1, "worker": 1, "redis": 1, "db": 1,
                             "visualizer": 1}
    vote = imp.graph.node_map()["vote"]
    assert vote.redundancy == {"replicas": 1}
    assert {e.target for e in imp.graph.edges if e.group == "replicas"
            and e.source == "vote"} == {"vote/replica-1", "vote/replica-2"}
    (order,) = imp.notes
    assert order.startswith("4 depends_on entries only order start-up (the list form or "
                            "condition service_started), e.g. vote -> redis: read as hard "
                            "dependencies")
    assert set(imp.without_dependencies) == {"redis", "visualizer"}


SHOWCASE = DATA / "backstage-showcase"
#: The showcase component's `spec.dependsOn` (components/showcase.yaml).
SHOWCASE_NEEDS = {"resource:pgdb", "resource:argocd", "resource:obc", "resource:keycloak",
                  "resource:github"}
#: Everything with `spec.system: janus-idp`: the system is whole only with its parts.
JANUS_PARTS = {"component:backstage-showcase", "api:petstore", "api:nexus-repo-manager3",
               *SHOWCASE_NEEDS}


def test_backstage_location_of_locations_is_followed() -> None:
    imp, paths, notes = read("backstage", SHOWCASE / "all.yaml")
    # all.yaml names five Locations; each names the entity files beside it.
    assert [p.relative_to(SHOWCASE).as_posix() for p in paths] == [
        "all.yaml", "apis.yaml", "components.yaml", "groups.yaml", "systems.yaml",
        "resources.yaml", "apis/petstore.yaml", "apis/nexus-repo-manager-3.yaml",
        "components/showcase.yaml", "groups/janus-authors.yaml", "groups/rhdh-team.yaml",
        "systems/janus-idp.yaml", "resources/pgdb.yaml", "resources/argocd.yaml",
        "resources/obc.yaml", "resources/keycloak.yaml", "resources/github.yaml"]
    assert notes == []
    assert calls(imp) == {
        *{("component:backstage-showcase", r) for r in SHOWCASE_NEEDS},
        *{("system:janus-idp", p) for p in JANUS_PARTS}}
    kinds = {n.id: n.kind for n in imp.graph.nodes}
    assert kinds == {**{r: NodeKind.CI for r in SHOWCASE_NEEDS},
                     **{s: NodeKind.SERVICE_SYSTEM for s in (
                         "component:backstage-showcase", "api:petstore",
                         "api:nexus-repo-manager3", "system:janus-idp")}}
    # The six Locations are no entities of the model; the two Groups are left out.
    assert len(imp.notes) == 8
    assert sum("Location" in n for n in imp.notes) == 6
    assert [n for n in imp.notes if "Group" in n] == [
        "backstage-showcase/groups/janus-authors.yaml document 1 (line 3): Group "
        "janus-authors left out (no place in the model)",
        "backstage-showcase/groups/rhdh-team.yaml document 1 (line 4): Group rhdh-team "
        "left out (no place in the model)"]
    # The directory itself reads the same files, each once.
    again, listed, _ = read("backstage", SHOWCASE)
    assert sorted(listed) == sorted(paths) and calls(again) == calls(imp)


def test_the_command_line_imports_the_vendored_files(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner = CliRunner()
    out = runner.invoke(app, ["import", "compose", str(DATA / "airflow"), "--source",
                              "airflow", "--store", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert (answer["imported"]["nodes"], answer["imported"]["edges"]) == (19, 29)
    assert answer["imported"]["without_dependencies"] == {"count": 1, "first": ["redis"]}
    out = runner.invoke(app, ["import", "backstage", str(SHOWCASE / "all.yaml"), "--source",
                              "catalog", "--store", db])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("imported 9 node(s) and 13 dependencies")
    assert "8 note(s):" in out.stdout
    # The text says what the files do not show, after the notes.
    out = runner.invoke(app, ["import", "compose", str(DATA / "voting-app" / "docker-stack.yml"),
                              "--source", "voting", "--store", db])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[1:3] == ["1 note(s):", "  4 depends_on entries only order start-up (the "
                          "list form or condition service_started), e.g. vote -> redis: read "
                          "as hard dependencies, since a service is usually made to wait for "
                          "what it calls; write `required: false` under the entry for a soft "
                          "one"]
    assert lines[3:] == ["2 service(s) needing nothing these files show (leaves, or calls "
                         "the files hide):", "  redis", "  visualizer"]
    out = runner.invoke(app, ["impact", "resource:pgdb", "postgres", "--store", db,
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    impacted = json.loads(out.stdout)["impacted"]
    down = {node for node, state in impacted.items() if state == "down"}
    assert {"system:janus-idp", "component:backstage-showcase", "airflow-webserver",
            "airflow-init", "flower"} <= down


def test_the_command_line_names_unresolved_addresses(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  shop:\n    image: shop\n    environment:\n"
                       "      - OTLP=http://tempo:4318\n      - DB=postgres://db:5432/shop\n"
                       "  db: {image: postgres}\n")
    out = CliRunner().invoke(app, ["import", "compose", str(compose), "--source", "c",
                                   "--store", str(tmp_path / "g.db")])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[1:] == [
        "1 address(es) naming nothing in these files:",
        f"  {compose} line 3: shop environment.OTLP: http://tempo:4318",
        "1 service(s) needing nothing these files show (leaves, or calls the files hide):",
        "  db"]


def test_a_failed_database_breaks_what_airflow_keeps(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    files = [SourceFile("docker-compose.yaml",
                        (DATA / "airflow" / "docker-compose.yaml").read_text())]
    run_import(sg.writes, "airflow", "compose", files)
    sg.writes.push("catalogue", GraphData.of(
        [Node("pipelines-run", NodeKind.PROMISE, "Nightly pipelines run on time"),
         Node("pipelines", NodeKind.BUSINESS_SERVICE, "Data pipelines"),
         Node("schedule", NodeKind.SERVICE_ACT, "Schedule a pipeline")],
        [Edge("pipelines-run", "pipelines"), Edge("pipelines", "schedule"),
         Edge("schedule", "airflow-scheduler")]))
    for failed in ("postgres", "volume/postgres-db-volume", "redis", "airflow-init"):
        answer = sg.questions.impact([failed], limit=10)
        assert answer["broken_promises"] == ["pipelines-run"], failed
    # Flower (behind a profile) serves no promise: its loss breaks nothing.
    assert sg.questions.impact(["flower"], limit=10)["broken_promises"] == []


@pytest.mark.parametrize(("entry", "declared"), [
    ("${DATA_VOLUME:-pgdata}:/var/lib/postgresql/data", "pgdata"),
    ("${DATA_VOLUME}:/var/lib/postgresql/data", "from-env"),
    ("{type: volume, source: '${DATA_VOLUME:-pgdata}', target: /data}", "pgdata"),
])
def test_compose_volume_names_are_interpolated(entry: str, declared: str) -> None:
    # Compose replaces variables in every value: before, the colon of `${VAR:-x}` split
    # the volume entry and the named volume was missed.
    compose = (f"services:\n  db:\n    image: postgres\n    volumes:\n      - {entry}\n"
               f"volumes:\n  {declared}: {{}}\n")
    env = "DATA_VOLUME=from-env\n" if declared == "from-env" else ""
    imp = parse("compose", [SourceFile("compose.yaml", compose), SourceFile(".env", env)])
    assert calls(imp) == {("db", f"volume/{declared}")}


def test_compose_dollar_escapes_are_read_once() -> None:
    # `$$` is a literal `$`, once: the environment is not interpolated a second time.
    compose = ("services:\n  app:\n    image: app\n"
               "    environment: {NOTE: '$${HOST}', DB: 'postgres://$${USER}@db:5432/x'}\n"
               "  db: {image: postgres}\n")
    imp = parse("compose", [SourceFile("compose.yaml", compose),
                            SourceFile(".env", "HOST=db\nUSER=me\n")])
    (inferred,) = imp.inferred
    assert (inferred.target, inferred.text) == ("db", "postgres://${USER}@db:5432/x")


_PLAIN = st.text(st.characters(blacklist_characters="$", blacklist_categories=("Cs",)),
                 max_size=20)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _PLAIN,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_PLAIN, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(_VALUES, st.dictionaries(st.from_regex(r"[A-Z_]{1,6}", fullmatch=True), _PLAIN))
def test_interpolation_keeps_what_names_no_variable(value: object,
                                                    variables: dict[str, str]) -> None:
    # A value with no `$` comes back as it was, keys and shape included.
    assert interpolated(value, variables) == value


@settings(max_examples=60, deadline=None)
@given(_PLAIN, st.from_regex(r"[A-Z_]{1,6}", fullmatch=True), _PLAIN)
def test_a_dollar_escape_is_a_dollar_and_a_variable_its_value(
        before: str, name: str, value: str) -> None:
    variables = {name: value}
    assert interpolate(f"{before}$${{{name}}}", variables) == f"{before}${{{name}}}"
    assert interpolate(f"{before}${{{name}}}", variables) == before + value
    default = before.replace("}", "")  # a default ends at the first `}`, as in Compose
    assert interpolate(f"${{{name}:-{default}}}", variables) == (value or default)


def test_variables_may_not_expand_an_import_past_its_bound() -> None:
    # A variable of a mebibyte named by 17 services would write 17 MiB: refused, naming
    # the service at which the bound was passed, before anything is built.
    env = SourceFile(".env", "BIG=" + "x" * 2**20 + "\n")
    lines = [f"  s{i}: {{image: app, environment: ['A=${{BIG}}']}}\n" for i in range(17)]
    services = "".join(lines)
    with pytest.raises(ValidationError) as caught:
        parse("compose", [SourceFile("compose.yaml", "services:\n" + services), env])
    (problem,) = caught.value.problems
    assert problem.item == "'s15'" and "16,777,216 characters" in problem.message
    assert problem.section == "compose.yaml line 17"
    # Within it, the same variable is read as usual.
    imp = parse("compose", [SourceFile("compose.yaml", "services:\n" + "".join(lines[:10])), env])
    assert len(imp.graph.nodes) > 0


def _location(path: Path, *targets: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    listed = "".join(f"    - {t}\n" for t in targets)
    path.write_text("apiVersion: backstage.io/v1alpha1\nkind: Location\n"
                    f"metadata: {{name: {path.stem}}}\nspec:\n  targets:\n{listed}")


def _component(path: Path, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                    f"metadata: {{name: {name}}}\nspec: {{type: service, owner: team}}\n")


def test_nested_locations_in_a_cycle_are_read_once(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    # all -> teams/index -> (all again, a, deeper/index) -> (teams/index again, b)
    _location(root / "all.yaml", "./teams/index.yaml")
    _location(root / "teams" / "index.yaml", "../all.yaml", "a.yaml", "deeper/index.yaml")
    _location(root / "teams" / "deeper" / "index.yaml", "../index.yaml", "./b.yaml")
    _component(root / "teams" / "a.yaml", "a")
    _component(root / "teams" / "deeper" / "b.yaml", "b")
    paths, notes = expand("backstage", [root / "all.yaml"], lambda p: p.read_text())
    assert [p.relative_to(root).as_posix() for p in paths] == [
        "all.yaml", "teams/index.yaml", "teams/a.yaml", "teams/deeper/index.yaml",
        "teams/deeper/b.yaml"]
    assert notes == []


def test_a_location_leading_out_of_the_directory_is_refused_by_name(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    _location(root / "all.yaml", "./a.yaml", "../elsewhere/secret.yaml", "/etc/x.yaml",
              "./missing.yaml")
    _component(root / "a.yaml", "a")
    _component(tmp_path / "elsewhere" / "secret.yaml", "secret")
    db = str(tmp_path / "g.db")
    out = CliRunner().invoke(app, ["import", "backstage", str(root / "all.yaml"),
                                   "--source", "bs", "--store", db])
    assert out.exit_code == 0, out.output
    said = out.output
    assert f"Location target ../elsewhere/secret.yaml not followed (outside {root})" in said
    assert "Location target /etc/x.yaml not followed (an absolute path" in said
    assert "Location target ./missing.yaml not found" in said
    nodes = CliRunner().invoke(app, ["nodes", "--store", db]).stdout
    assert "component:a" in nodes and "component:secret" not in nodes
