"""Imports from the formats people already have, as pushes from a named source.

A Backstage catalogue, Kubernetes manifests, Compose files, Jaeger dependencies,
OpenTelemetry service-graph metrics or a pair of CSV files, sent as the file's text
(one file) or as ``multipart/form-data`` (several files read together, e.g. a nodes
and an edges CSV, or a Compose file and its ``.env``). The import is validated
whole, idempotent and retirable by a later full sync like any push; problems name
the file, line or document, and item.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from servicegraph.formats import ImportKind
from servicegraph.importers import DESCRIPTIONS, SourceFile, run_import
from servicegraph.importers.common import MAX_IMPORT_ITEMS, MAX_REPLICAS
from servicegraph.model.yaml_bounds import MAX_ALIAS_NODES
from servicegraph_api.deps import MetricsDep, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.ingest_schemas import PushOut
from servicegraph_api.routers.ingest import AllowEmpty, DryRun, FullSync, Source
from servicegraph_api.routing import ModelRoute

router = APIRouter(tags=["integrators"], route_class=ModelRoute)


class InferredOut(BaseModel):
    """A dependency read from a value rather than stated, and what it was read from."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="the dependant")
    to: str = Field(description="what it needs")
    where: str = Field(description="the file and line or document")
    field: str = Field(description="the field the value is in")
    text: str = Field(description="the value (cut to 200 characters)")


class InferredList(BaseModel):
    """Every inferred dependency counted, the first 100 listed."""

    count: int
    first: list[InferredOut]


class UnresolvedOut(BaseModel):
    """An address naming nothing the files hold."""

    item: str = Field(description="the workload or service whose value it is")
    where: str
    field: str
    text: str
    host: str = Field(description="the host named")


class UnresolvedList(BaseModel):
    """Every unresolved address counted, the first 100 listed."""

    count: int
    first: list[UnresolvedOut]


class IdsList(BaseModel):
    """Every item counted, the first 100 listed."""

    count: int
    first: list[str]


class ImportedOut(BaseModel):
    """What the import read."""

    kind: str
    files: list[str]
    nodes: int = Field(description="nodes the files describe")
    edges: int = Field(description="dependencies the files describe")
    notes: list[str] = Field(description="items left out on purpose (kinds with no place "
                                         "in the model), with where they are; decisions "
                                         "taken (Compose services behind profiles "
                                         "imported, depends_on that only orders start-up "
                                         "or waits for a one-off job read as a "
                                         "dependency); and what the files do not say "
                                         "(e.g. no calls found)")
    inferred: InferredList = Field(description="dependencies read from values (addresses "
                                               "in env, commands, ConfigMaps; selectors; "
                                               "traces), each with its file, field and text")
    unresolved: UnresolvedList = Field(description="addresses naming nothing the files "
                                                   "hold: services outside them, or typos")
    without_dependencies: IdsList = Field(description="workloads that need nothing the "
                                                      "files show: leaves, or calls the "
                                                      "files hide")


class ImportOut(PushOut):
    """What the import did (the push's counts) and what it read."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "source": "k8s", "full_sync": True, "dry_run": False, "changed": True,
        "created": 5, "updated": 0, "unchanged": 0, "retired": 0,
        "nodes": {"created": 3, "updated": 0, "unchanged": 0, "retired": 0},
        "edges": {"created": 2, "updated": 0, "unchanged": 0, "retired": 0},
        "imported": {"kind": "kubernetes", "files": ["app.yaml"], "nodes": 3, "edges": 2,
                     "notes": ["app.yaml document 3 (line 30): ConfigMap settings left out "
                               "(no place in the model)"],
                     "inferred": {"count": 1, "first": [{
                         "from": "deployment/frontend", "to": "service/cartservice",
                         "where": "app.yaml document 1 (line 1)",
                         "field": "containers[server].env[CART_SERVICE_ADDR]",
                         "text": "cartservice:7070"}]},
                     "unresolved": {"count": 0, "first": []},
                     "without_dependencies": {"count": 1,
                                              "first": ["deployment/cartservice"]}}}]})

    imported: ImportedOut


_MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: cartservice}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: cartservice}}
    spec: {containers: [{name: server, image: cartservice:v1}]}
"""

_BODY = {"required": True, "content": {
    "text/plain": {"schema": {"type": "string"}, "example": _MANIFEST},
    "multipart/form-data": {
        "schema": {"type": "object", "properties": {"files": {
            "type": "array", "items": {"type": "string", "format": "binary"}}}},
        "example": {"files": ["nodes.csv", "edges.csv"]}}}}


def _decode(name: str, data: bytes) -> SourceFile:
    try:
        return SourceFile(name, data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None


async def _files(request: Request, name: str) -> list[SourceFile]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return [_decode(name, await request.body())]
    try:
        form = await request.form()
    except Exception as exc:  # a malformed body is the client's error, whatever the parser
        raise ValueError(f"not a valid multipart/form-data body: {exc}") from None
    out = []
    for field, value in form.multi_items():
        if isinstance(value, UploadFile):
            out.append(_decode(value.filename or field, await value.read()))
        else:
            out.append(SourceFile(field, value))
    return out


@router.post(
    "/sources/{source}/import/{kind}", response_model=ImportOut,
    summary="Import files of a known format from a source",
    description="Reads the body with the importer of `kind` and pushes the result from "
                "`source`: "
                + "; ".join(f"`{k}`: {v}" for k, v in DESCRIPTIONS.items())
                + ". Send one file as the body (its name given by `name`), or several "
                "read together as `multipart/form-data`. Only service systems and CIs "
                "are imported (CSV may carry any kind); attach promises, business "
                "services and acts on top with a push of your own. Validated whole, "
                "idempotent, retired by a later full sync; a bad file answers 422 naming "
                "the file, the line or document, and the item; nothing is written then. "
                f"Bounded before anything is built: at most {MAX_REPLICAS:,} replicas per "
                f"workload, {MAX_IMPORT_ITEMS:,} nodes and dependencies per import, and "
                f"YAML aliases standing for at most {MAX_ALIAS_NODES:,} nodes in all; "
                "422 beyond, naming the file, the item and the bound.",
    responses=responses(404, 413), openapi_extra={"requestBody": _BODY})
async def import_files(
    source: Source,
    kind: Annotated[ImportKind, Path(description="the format of the files",
                                     examples=["kubernetes"])],
    request: Request, writer: WriterDep,
    metrics: MetricsDep, full_sync: FullSync = False, dry_run: DryRun = False,
    allow_empty: AllowEmpty = False,
    name: Annotated[str, Query(min_length=1, max_length=200, examples=["app.yaml"],
                               description="the file's name in problems, for a body "
                                           "that is one file")] = "body",
) -> dict[str, Any]:
    """One importer, many sources of truth: each import is a push from `source`."""
    files = await _files(request, name)
    answer: dict[str, Any] = await run_in_threadpool(
        run_import, writer, source, kind.value, files, full_sync=full_sync, dry_run=dry_run,
        allow_empty=allow_empty)
    metrics.pushed_items.labels(source=source, kind="node").inc(answer["imported"]["nodes"])
    metrics.pushed_items.labels(source=source, kind="edge").inc(answer["imported"]["edges"])
    return answer
