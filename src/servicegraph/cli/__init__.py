"""The ``servicegraph`` command line.

One module per group of commands; each command imports what it needs when it runs,
so ``servicegraph --help`` answers without loading numpy, networkx, the Neo4j
driver or the HTTP layer.
"""

from __future__ import annotations

import typer

from servicegraph.cli import admin, graph, incidents, ingest, questions, record

app = typer.Typer(help="servicegraph: which promises break, for whom, why, and who must act.",
                  no_args_is_help=True, add_completion=False)
for group in (graph.app, questions.app, record.app, ingest.app, admin.app):
    app.registered_commands += group.registered_commands
app.add_typer(questions.changes_app, name="changes")
app.add_typer(incidents.alerts_app, name="alerts")
app.add_typer(incidents.maintenance_app, name="maintenance")
app.command("ack")(incidents.ack)
app.add_typer(incidents.subscriptions_app, name="subscriptions")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.neo4j_app, name="neo4j")


def main() -> None:
    """Entry point of the ``servicegraph`` script."""
    app(prog_name="servicegraph")


__all__ = ["app", "main"]
