"""Stores: the embedded SQLite store and the Neo4j store of record, one interface.

The Neo4j store (and with it the Neo4j driver) is imported only when a Neo4j store is
opened or named: a process over the embedded store never loads the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servicegraph.settings import Settings
from servicegraph.store.base import (
    Change,
    ChangeInfo,
    ChangeTooLarge,
    GraphStore,
    JournalEntry,
    Snapshot,
    StoreError,
    StoreUnavailable,
    SyncClosed,
    SyncSuperseded,
)
from servicegraph.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from servicegraph.store.neo4j import Neo4jStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def is_neo4j_uri(target: str) -> bool:
    """Whether a store setting names a Neo4j server rather than a file.

    >>> is_neo4j_uri("bolt://localhost:7687"), is_neo4j_uri("./servicegraph.db")
    (True, False)
    """
    return target.lower().startswith(NEO4J_SCHEMES)


def open_store(target: str | None = None, settings: Settings | None = None) -> GraphStore:
    """Open the store named by ``target`` (default: ``settings.store``)."""
    settings = settings or Settings()
    target = target or settings.store
    if is_neo4j_uri(target):
        from servicegraph.store.neo4j import Neo4jStore

        password = settings.neo4j_password
        auth = (settings.neo4j_user, password.get_secret_value()) if password else None
        return Neo4jStore(target, auth=auth, database=settings.neo4j_database,
                          retry_seconds=settings.store_retry_seconds,
                          connect_timeout=settings.neo4j_connect_timeout,
                          journal_days=settings.journal_days,
                          record_days=settings.record_days,
                          inline_max=settings.journal_inline_max)
    return SqliteStore(target, busy_timeout=settings.store_retry_seconds,
                       journal_days=settings.journal_days,
                       record_days=settings.record_days,
                       inline_max=settings.journal_inline_max)


def __getattr__(name: str) -> Any:
    if name == "Neo4jStore":
        from servicegraph.store.neo4j import Neo4jStore

        globals()[name] = Neo4jStore
        return Neo4jStore
    raise AttributeError(f"module 'servicegraph.store' has no attribute {name!r}")


__all__ = [
    "Change",
    "ChangeInfo",
    "ChangeTooLarge",
    "GraphStore",
    "JournalEntry",
    "Neo4jStore",
    "Snapshot",
    "SqliteStore",
    "StoreError",
    "StoreUnavailable",
    "SyncClosed",
    "SyncSuperseded",
    "is_neo4j_uri",
    "open_store",
]
