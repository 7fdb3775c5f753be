"""The pure domain model: kinds, nodes, edges, the interchange format and its rules."""

from servicegraph.model.errors import Problem, UnknownEdgeError, UnknownNodeError, ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.interchange import dumps, load_file, loads, parse_document
from servicegraph.model.kinds import ALLOWED, Impact, NodeKind, State, may_depend
from servicegraph.model.validate import find_problems, validate, validate_removal

__all__ = [
    "ALLOWED",
    "Edge",
    "GraphData",
    "Impact",
    "Node",
    "NodeKind",
    "Problem",
    "State",
    "UnknownEdgeError",
    "UnknownNodeError",
    "ValidationError",
    "dumps",
    "find_problems",
    "load_file",
    "loads",
    "may_depend",
    "parse_document",
    "validate",
    "validate_removal",
]
