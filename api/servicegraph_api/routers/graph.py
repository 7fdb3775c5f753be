"""Node and edge reads and writes, and the neighbourhood of a node for drawing.

Writes go through the library: a node or edge is validated against the whole
stored graph (layers, redundancy groups, references) and written in one
transaction, or not at all.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response

from servicegraph.model.bounds import IDENTIFIER_PATTERN, MAX_ID_LENGTH
from servicegraph.model.kinds import NodeKind
from servicegraph_api import examples
from servicegraph_api.deps import QuestionsDep, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.reads import edge_page, node_page, node_view
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import (
    EdgeIn,
    EdgeListOut,
    EdgeOut,
    NodeOut,
    NodePageOut,
    NodePutIn,
    SubgraphOut,
)

router = APIRouter(tags=["graph"], route_class=ModelRoute)

#: One node's path: its id is one percent-encoded segment (see servicegraph_api.paths).
NODE = "/nodes/{node_id:" + SEGMENT + "}"

NodeId = Annotated[str, Path(description="a node id, percent-encoded (`/` as `%2F`)",
                             examples=["web-tier"])]
FromId = Annotated[str | None, Query(alias="from", description="the dependant's id",
                                     examples=["web-tier"])]
ToId = Annotated[str | None, Query(alias="to", description="the dependency's id",
                                   examples=["web-1"])]
#: The id of a node being written: what the model accepts as an id (see NodeIn).
NewNodeId = Annotated[str, Path(
    min_length=1, max_length=MAX_ID_LENGTH, pattern=IDENTIFIER_PATTERN,
    description="the node's id, percent-encoded (`/` as `%2F`): not blank, no control "
                f"characters, at most {MAX_ID_LENGTH} characters", examples=["web-4"])]


@router.get(
    "/nodes", response_model=NodePageOut, summary="List nodes",
    description="Nodes in the interchange format, ordered by id, one page at a time; "
                "optionally of one kind, or matching a search (`q`: part of the id or name, "
                "any case; exact matches first). Retired nodes are listed too.",
)
def list_nodes(
    questions: QuestionsDep,
    kind: Annotated[NodeKind | None, Query(description="only this kind",
                                           examples=["promise"])] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, examples=["web"],
                                   description="search: part of the id or name, any case")
                 ] = None,
    limit: Annotated[int, Query(ge=1, le=10000, description="page size",
                                examples=[50])] = 100,
    offset: Annotated[int, Query(ge=0, description="nodes to skip", examples=[0])] = 0,
) -> dict[str, Any]:
    nodes, total = questions.node_page(kind=kind, query=q, limit=limit, offset=offset)
    return node_page(nodes, total, limit, offset)


@router.get(
    NODE, response_model=NodeOut, summary="Read a node",
    description="One node in the interchange format; 404 when there is none.",
    responses=responses(404),
)
def get_node(node_id: NodeId, questions: QuestionsDep) -> dict[str, Any]:
    return node_view(questions.node(node_id))


@router.put(
    NODE, response_model=NodeOut, summary="Create or replace a node",
    description="The body is a node in the interchange format; its `id` may be left out and "
                "must equal the path's otherwise. The node is validated against the whole "
                "stored graph (e.g. its redundancy groups against its edges) and written in "
                "one transaction: 201 when created, 200 when it replaced a node. A broken "
                "rule answers 422 naming the field, and nothing is written.",
    responses={201: {"model": NodeOut, "description": "Created."}, **responses(413)},
)
def put_node(
    node_id: NewNodeId,
    body: Annotated[NodePutIn, Body(openapi_examples={"ci": {
        "summary": "A fourth web server", "value": examples.NODE_PUT_REQUEST}})],
    questions: QuestionsDep,
    writer: WriterDep,
    response: Response,
) -> dict[str, Any]:
    existed = questions.has_node(node_id)
    writer.load(body.batch(node_id))
    response.status_code = 200 if existed else 201
    return questions.node(node_id).to_dict()


@router.delete(
    NODE, status_code=204, response_class=Response, summary="Delete a node",
    description="Deletes the node and its edges, unless that leaves a redundancy group with "
                "fewer members than it needs (422, nothing deleted). 404 when there is none.",
    responses=responses(404),
)
def delete_node(node_id: NodeId, writer: WriterDep) -> Response:
    writer.remove(node_ids=[node_id])
    return Response(status_code=204)


@router.get(
    NODE + "/neighbourhood", response_model=SubgraphOut,
    summary="The neighbourhood of a node, for drawing",
    description="Nodes within `depth` hops of the node and every edge among them. "
                "`upstream` follows dependencies (what it needs), `downstream` dependants "
                "(what needs it), `both` the union of the two walks. At most `limit` nodes, "
                "nearest first; `truncated` says when some were left out.",
    responses=responses(404),
)
def get_neighbourhood(
    node_id: NodeId,
    questions: QuestionsDep,
    direction: Annotated[Literal["upstream", "downstream", "both"],
                         Query(description="which way to walk",
                               examples=["upstream"])] = "both",
    depth: Annotated[int, Query(ge=0, le=50, description="hops", examples=[2])] = 2,
    limit: Annotated[int, Query(ge=1, le=10000, description="most nodes returned",
                                examples=[200])] = 200,
) -> dict[str, Any]:
    return questions.neighbourhood(node_id, direction=direction, depth=depth,
                                   limit=limit).to_dict()


@router.get(
    "/edges", response_model=EdgeListOut, summary="List edges",
    description="Dependencies, ordered by (from, to), one page at a time; filter by either "
                "end. A live edge that touches a retired node is marked `dangling`: one "
                "source stopped asserting a node another source's dependency still needs "
                "(impact keeps flowing through it).",
)
def list_edges(
    questions: QuestionsDep, dependant: FromId = None, dependency: ToId = None,
    limit: Annotated[int, Query(ge=1, le=10000, description="page size",
                                examples=[1000])] = 1000,
    offset: Annotated[int, Query(ge=0, description="edges to skip", examples=[0])] = 0,
) -> dict[str, Any]:
    edges, total = questions.edge_page(dependant=dependant, dependency=dependency,
                                       limit=limit, offset=offset)
    return edge_page(edges, total, limit, offset)


@router.put(
    "/edges", response_model=EdgeOut, summary="Create or replace an edge",
    description="The body is an edge in the interchange format (`from` needs `to`). It is "
                "validated against the whole stored graph (the layer table, redundancy "
                "groups, both ends existing) and written in one transaction: 201 when "
                "created, 200 when it replaced the edge between the same two nodes. A broken "
                "rule answers 422 naming the field, and nothing is written.",
    responses={201: {"model": EdgeOut, "description": "Created."}, **responses(413)},
)
def put_edge(
    body: Annotated[EdgeIn, Body(openapi_examples={"soft": {
        "summary": "The HR application softly needs e-mail",
        "value": examples.EDGE_PUT_REQUEST}})],
    questions: QuestionsDep,
    writer: WriterDep,
    response: Response,
) -> dict[str, Any]:
    batch = body.batch()
    (edge,) = batch.edges
    existed = questions.has_edge(*edge.key)
    writer.load(batch)
    response.status_code = 200 if existed else 201
    return edge.to_dict()


@router.delete(
    "/edges", status_code=204, response_class=Response, summary="Delete an edge",
    description="Deletes the dependency `from` -> `to`, unless that leaves a redundancy group "
                "with fewer members than it needs (422, nothing deleted). 404 when there is "
                "none.",
    responses=responses(404),
)
def delete_edge(
    writer: WriterDep,
    dependant: Annotated[str, Query(alias="from", description="the dependant's id",
                                    examples=["hr-app"])],
    dependency: Annotated[str, Query(alias="to", description="the dependency's id",
                                     examples=["email"])],
) -> Response:
    writer.remove(edge_keys=[(dependant, dependency)])
    return Response(status_code=204)
