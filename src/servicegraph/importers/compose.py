"""Compose files as service systems, their replicas as CIs.

==============================  ====================================================
in the Compose file             in the graph
==============================  ====================================================
a service                       a service system with the service's name
its ``deploy.replicas`` or      n CIs ``NAME/replica-1`` ... that the service needs
``scale`` (n, default 1, at     as a redundancy group ``replicas`` with min_ok 1
most 1,000)                     (each replica of a Compose service answers alone)
``depends_on``                  the service needs each one named (soft when the
                                entry says ``required: false``); kept hard when it only
                                orders start-up (the list form, ``condition:
                                service_started``) or waits for a one-off job
                                (``condition: service_completed_successfully``), and
                                said so in the notes
a named volume it mounts        a CI ``volume/NAME`` the service needs
``profiles``                    imported like any service, noted (started only with
                                ``--profile``)
``links``                       the service needs each one named
an ``environment`` value naming the service needs that service (its name, its
another service's address       ``hostname``, ``container_name`` or a network alias)
==============================  ====================================================

Files whose name is ``.env`` or ends in ``.env`` give the variables that
``${VAR}``, ``${VAR:-default}`` and ``$VAR`` are replaced with in every value, as
``docker compose`` does with the project's ``.env``; an entry ``- VAR`` with no value
takes the variable's value. Several Compose files are merged service by service, later
files winning, as with ``docker compose -f a.yaml -f b.yaml``. Everything inferred
is marked as for Kubernetes (``properties.inferred``, ``properties.inferred_edges``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from servicegraph.importers.common import (
    LOCAL_HOSTS,
    MAX_IMPORT_ITEMS,
    Builder,
    Imported,
    SourceFile,
    addresses_in,
    at_line,
    line_of,
    plain,
    replicas_of,
    strings,
    text,
    yaml_documents,
)
from servicegraph.model.graph import Node
from servicegraph.model.kinds import Impact, NodeKind

REPLICAS = "replicas"
_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}"
                  r"|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """``value`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` replaced;
    ``$$`` is a literal ``$``; unknown variables are empty, as in Compose.

    >>> interpolate("cart:${CART_PORT}", {"CART_PORT": "7070"})
    'cart:7070'
    >>> interpolate("${HOST:-db}:$PORT $$", {"PORT": "5432"})
    'db:5432 $'
    """
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        found = variables.get(name)
        op, default = match.group(2), match.group(3) or ""
        if op == ":-" and not found:
            return default
        if op == "-" and found is None:
            return default
        return found or ""
    return _VAR.sub(one, value)


#: The most characters the values of one Compose import may be rewritten into by
#: interpolation: as much text as the largest request body carries. A variable of a
#: megabyte named in many values (or in one value that aliases repeat) would otherwise
#: ask for gigabytes.
MAX_INTERPOLATED = 16 * 2**20


class TooMuchText(ValueError):
    """Interpolation would write more than :data:`MAX_INTERPOLATED` characters."""


def interpolated(value: Any, variables: Mapping[str, str], budget: list[int] | None = None,
                 ) -> Any:
    """``value`` with every string in it interpolated, keys left as they are: Compose
    replaces variables in all values before it reads them (a volume
    ``${DATA:-pgdata}:/var/lib/postgresql/data`` is the named volume ``pgdata``).

    ``budget`` (one count, shared by the calls of one import) is what may still be
    written; :class:`TooMuchText` past it.

    >>> interpolated({"volumes": ["${DATA:-pgdata}:/data"], "scale": 2}, {})
    {'volumes': ['pgdata:/data'], 'scale': 2}
    """
    budget = [MAX_INTERPOLATED] if budget is None else budget
    if isinstance(value, str):
        if "$" not in value:
            return value  # nothing new written: an aliased text costs nothing twice
        out = interpolate(value, variables)
        budget[0] -= len(out)
        if budget[0] < 0:
            raise TooMuchText(f"its values, with the variables replaced, come to more than "
                              f"{MAX_INTERPOLATED:,} characters over the import, the most "
                              "one import may")
        return out
    if isinstance(value, dict):
        return {k: interpolated(v, variables, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolated(v, variables, budget) for v in value]
    return value


def read_env(file: SourceFile, builder: Builder) -> dict[str, str]:
    """The variables of a ``.env`` file, each interpolated with those before it."""
    out: dict[str, str] = {}
    for number, raw in enumerate(file.text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            builder.problem(at_line(file.name, number), repr(key or line), "",
                            "expected VARIABLE=value")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1] if value[0] == "'" else interpolate(value[1:-1], out)
        else:
            value = interpolate(value.split(" #", 1)[0].strip(), out)
        out[key] = value
    return out


def _environment(raw: Any, variables: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(variable, value) pairs of a service's ``environment`` (list or mapping), its
    values interpolated already; an entry with no value takes the variable's."""
    pairs: list[tuple[str, str | None]] = []
    if isinstance(raw, dict):
        pairs = [(str(k), None if v is None else str(v)) for k, v in raw.items()]
    else:
        for entry in strings(raw):
            key, sep, given = entry.partition("=")
            pairs.append((key, given if sep else None))
    for key, value in pairs:
        resolved = variables.get(key) if value is None else value
        if resolved:
            yield key, resolved


#: The ``depends_on`` condition that only orders start-up (the list form's too).
STARTED = "service_started"
#: The ``depends_on`` condition that waits for a one-off job (a migration, a set-up
#: step) to finish: the dependant does not start when the job fails.
COMPLETED = "service_completed_successfully"


def _depends_on(raw: Any) -> list[tuple[str, Impact, str, str]]:
    """(service, impact, why, condition) for each ``depends_on`` entry (list or mapping)."""
    if isinstance(raw, dict):
        out = []
        for name, how in raw.items():
            how = how if isinstance(how, dict) else {}
            soft = how.get("required") is False
            condition = text(how.get("condition"))
            why = "depends_on" + (f" ({condition})" if condition else "")
            out.append((str(name), Impact.SOFT if soft else Impact.HARD, why,
                        condition or STARTED))
        return out
    return [(name, Impact.HARD, "depends_on", STARTED) for name in strings(raw)]


def _named_volumes(service: dict[str, Any], declared: Mapping[str, Any]) -> list[str]:
    """The named volumes (declared at the top level) the service mounts; bind mounts of
    host paths and anonymous volumes are not shared things it needs."""
    out = []
    given = service.get("volumes")
    for entry in given if isinstance(given, list) else []:  # malformed: adds nothing
        if isinstance(entry, str):
            source, sep, _ = entry.partition(":")
            name = source if sep else ""
        elif isinstance(entry, dict) and entry.get("type", "volume") == "volume":
            name = str(entry.get("source") or "")
        else:
            name = ""
        if name and name in declared and name not in out:
            out.append(name)
    return out


def _replicas(service: dict[str, Any]) -> Any:
    deploy = service.get("deploy")
    if isinstance(deploy, dict) and deploy.get("replicas") is not None:
        return deploy["replicas"]
    return service.get("scale", 1)


def _counted(name: str, service: dict[str, Any], where: str, builder: Builder) -> int | None:
    """The service's replicas (``None`` after a problem), announced to the builder."""
    given = _replicas(service)
    if isinstance(given, str) and given.isdigit():
        given = int(given)
    replicas = replicas_of(given, where, repr(name), "deploy.replicas", builder)
    if replicas is not None:
        builder.expect(where, repr(name), "deploy.replicas", 1 + 2 * replicas)
    return replicas


def _services(files: Sequence[SourceFile], builder: Builder, volumes: dict[str, str],
              ) -> tuple[dict[str, tuple[dict[str, Any], str]], dict[str, str]]:
    """Services merged across the Compose files (with where each was last defined), and
    the variables of the ``.env`` files; the named volumes declared go to ``volumes``
    (name -> where)."""
    variables: dict[str, str] = {}
    for file in files:
        if file.name.rsplit("/", 1)[-1].endswith(".env"):
            variables.update(read_env(file, builder))
    services: dict[str, tuple[dict[str, Any], str]] = {}
    for file in files:
        if file.name.rsplit("/", 1)[-1].endswith(".env"):
            continue
        for number, doc in yaml_documents(file, builder):
            found = doc.get("services") if isinstance(doc, dict) else None
            if not isinstance(found, dict):
                builder.problem(at_line(file.name, line_of(doc), number if number > 1 else None),
                                file.name, "services", "a Compose file needs a services mapping")
                continue
            declared = doc.get("volumes")
            for volume in declared if isinstance(declared, dict) else {}:
                volumes.setdefault(str(volume), at_line(file.name, line_of(declared)))
            for name, service in found.items():
                where = at_line(file.name, line_of(service))
                if not isinstance(service, dict):
                    service = {}
                before = services.get(str(name), ({}, where))[0]
                services[str(name)] = ({**before, **service}, where)
    # Once, after merging: a value interpolated twice would lose its `$$` escapes.
    budget = [MAX_INTERPOLATED]
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for name, (service, where) in services.items():
        try:
            out[name] = (interpolated(service, variables, budget), where)
        except TooMuchText as exc:
            builder.problem(where, repr(name), "", str(exc))
            return {}, variables
    return out, variables


def _hosts(services: Mapping[str, tuple[dict[str, Any], str]]) -> dict[str, str]:
    """Every name a service answers to -> the service."""
    out: dict[str, str] = {}
    for name, (service, _) in services.items():
        names = [name, text(service.get("hostname")), text(service.get("container_name"))]
        networks = service.get("networks")
        if isinstance(networks, dict):
            for net in networks.values():
                if isinstance(net, dict):
                    names += strings(net.get("aliases"))
        for alias in names:
            if alias:
                out.setdefault(alias.lower(), name)
    return out


def import_compose(files: Sequence[SourceFile]) -> Imported:
    """Read Compose files (and ``.env`` files) into service systems and replica CIs.

    Examples
    --------
    >>> compose = '''
    ... services:
    ...   shop: {image: shop, environment: [DB_URL=postgres://db:5432/shop], depends_on: [cache]}
    ...   db: {image: postgres, deploy: {replicas: 2}}
    ...   cache: {image: valkey}
    ... '''
    >>> imp = import_compose([SourceFile("compose.yaml", compose)])
    >>> sorted(e.key for e in imp.graph.edges if e.group is None)
    [('shop', 'cache'), ('shop', 'db')]
    >>> imp.graph.nodes[0].properties["inferred_edges"]
    {'cache': 'depends_on', 'db': 'env:DB_URL'}
    >>> imp.inferred[1].field, imp.inferred[1].text
    ('environment.DB_URL', 'postgres://db:5432/shop')
    """
    builder = Builder()
    declared: dict[str, str] = {}
    services, variables = _services(files, builder, declared)
    if builder.problems and not services:
        return builder.result()  # nothing read to build from: the problems say why
    # Every service's replicas are counted before any is built.
    counted = [(name, service, where, _counted(name, service, where, builder))
               for name, (service, where) in services.items()]
    if builder.expected > MAX_IMPORT_ITEMS:
        return builder.result()
    for name, service, where, replicas in counted:
        if replicas is None:
            continue
        image = text(service.get("image"))
        builder.node(Node(name, NodeKind.SERVICE_SYSTEM, name,
                          redundancy={REPLICAS: 1} if replicas else {},
                          properties=plain({"compose_service": name, "replicas": replicas,
                                            "image": image})), where)
        for i in range(1, replicas + 1):
            replica = f"{name}/replica-{i}"
            builder.node(Node(replica, NodeKind.CI, f"{name} replica {i}", silo="containers",
                              properties={"inferred": f"service {name}: replica {i} of "
                                                      f"{replicas}, 1 needed"}), where)
            builder.edge(name, replica, where, group=REPLICAS)
        if profiles := strings(service.get("profiles")):
            builder.notes.append(f"{where}: service {name} has profiles "
                                 f"({', '.join(profiles)}): started only with --profile, "
                                 "imported like the others")
    hosts = _hosts(services)

    def need(source: str, target: str, field_name: str, value: str, where: str,
             impact: Impact = Impact.HARD, why: str | None = None) -> None:
        if target == source or source not in builder.nodes:
            return
        if target not in services:
            builder.problem(where, repr(source), field_name.split(" ", 1)[0],
                            f"names {target!r}, which is not a service of these files")
            return
        builder.infer(source, target, where, field_name, value, why=why, impact=impact)

    started: list[str] = []
    jobs: list[str] = []
    for name, (service, where) in services.items():
        for target, impact, why, condition in _depends_on(service.get("depends_on")):
            need(name, target, "depends_on", f"{target} ({condition})", where, impact, why)
            if condition == STARTED and impact is Impact.HARD:
                started.append(f"{name} -> {target}")
            elif condition == COMPLETED and impact is Impact.HARD:
                jobs.append(f"{name} -> {target}")
        for link in strings(service.get("links")):
            need(name, link.split(":", 1)[0], "links", link, where)
        for variable, value in _environment(service.get("environment"), variables):
            for address in addresses_in(value):
                if address.host in hosts:
                    need(name, hosts[address.host], f"environment.{variable}", value, where,
                         why=f"env:{variable}")
                elif address.explicit and address.host not in LOCAL_HOSTS:
                    builder.unresolved_address(name, where, f"environment.{variable}", value,
                                               address.host)
        for volume in _named_volumes(service, declared):
            volume_id = f"volume/{volume}"
            if volume_id not in builder.nodes:
                builder.node(Node(volume_id, NodeKind.CI, volume, silo="containers",
                                  properties={"compose_volume": volume}), declared[volume])
            builder.infer(name, volume_id, where, "volumes", volume, why=f"volume:{volume}")
    if started:
        builder.notes.append(
            f"{len(started)} depends_on entr{'y' if len(started) == 1 else 'ies'} only "
            f"order start-up (the list form or condition service_started), e.g. "
            f"{started[0]}: read as hard dependencies, since a service is usually made to "
            "wait for what it calls; write `required: false` under the entry for a soft one")
    if jobs:
        builder.notes.append(
            f"{len(jobs)} depends_on entr{'y' if len(jobs) == 1 else 'ies'} wait for a "
            f"one-off job to finish (condition service_completed_successfully), e.g. "
            f"{jobs[0]}: read as hard dependencies, since the dependant does not start "
            "when the job fails; the job is not expected to keep running, so report it "
            "down only when it failed")
    _without(services, builder)
    return builder.result()


def _without(services: Mapping[str, Any], builder: Builder) -> None:
    """Flag services needing no other service, and say when none needs any."""
    needing = {e.source for e, _ in builder.edges.values() if e.group != REPLICAS}
    builder.without_dependencies.extend(n for n in services if n in builder.nodes
                                        and n not in needing)
    if services and not any(t in services for _, t in builder.edges):
        builder.notes.append("no calls found: nothing in these files says which service "
                             "calls which; add a tracing import (jaeger, otel) or a calls "
                             "file")
