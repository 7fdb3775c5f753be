"""The options commands share: where the graph is, and how to answer."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

StoreOpt = Annotated[str | None, typer.Option(
    "--store", envvar="SERVICEGRAPH_STORE",
    help="bolt://host:port or neo4j://... for Neo4j; a file path for the embedded store "
         "(default ./servicegraph.db).")]
ServerOpt = Annotated[str | None, typer.Option(
    "--server", envvar="SERVICEGRAPH_SERVER",
    help="ask a running servicegraph server at this URL (e.g. http://127.0.0.1:8000) "
         "instead of opening the store")]
ApiKeyOpt = Annotated[str | None, typer.Option(
    "--api-key", envvar="SERVICEGRAPH_API_KEY", help="the API key for --server")]


class Format(StrEnum):
    """How a command prints its answer."""

    TEXT = "text"
    JSON = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text or json")]


def emit(fmt: Format, answer: Any, text: str) -> None:
    """Print ``answer`` as JSON, or ``text``."""
    typer.echo(json.dumps(answer, indent=2) if fmt is Format.JSON else text)
