"""Settings, read from ``SERVICEGRAPH_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the graph lives and how to reach it.

    ``store`` selects the store: a ``bolt://`` / ``neo4j://`` URI (also the
    ``+s`` / ``+ssc`` variants) selects Neo4j, anything else is the path of the
    embedded SQLite file.
    """

    model_config = SettingsConfigDict(env_prefix="SERVICEGRAPH_", env_file=".env",
                                      extra="ignore")

    store: str = "servicegraph.db"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
