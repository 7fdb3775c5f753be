"""Settings, read from ``SERVICEGRAPH_*`` environment variables (or a ``.env`` file).

There is no module-level instance: whoever needs settings builds one
(``Settings()``), so tests and embedders can build their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Where the graph lives, how to reach it, and how the HTTP service behaves.

    ``store`` selects the store: a ``bolt://`` / ``neo4j://`` URI (also the
    ``+s`` / ``+ssc`` variants) selects Neo4j, anything else is the path of the
    embedded SQLite file.

    Every field can be set from the environment with the ``SERVICEGRAPH_``
    prefix, e.g. ``SERVICEGRAPH_MAX_BODY_BYTES=1048576``; lists are given as
    JSON, e.g. ``SERVICEGRAPH_SOURCE_PRECEDENCE='["cmdb", "monitoring"]'``.
    """

    model_config = SettingsConfigDict(env_prefix="SERVICEGRAPH_", env_file=".env",
                                      extra="ignore")

    store: str = "servicegraph.db"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"

    # --- HTTP service (``servicegraph serve``) ---------------------------------
    host: str = Field(default="127.0.0.1", description=(
        "Address the HTTP service binds to. Without any API key configured the "
        "service binds to loopback whatever this says."))
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port of the HTTP service.")
    workers: int = Field(default=1, ge=1, le=64, description=(
        "API worker processes. Each holds its own copy of the graph in memory and keeps up "
        "with the others' writes through the store's change journal."))
    api_keys_file: Path = Field(default=Path("servicegraph-keys.json"), description=(
        "JSON file of hashed API keys, managed with `servicegraph keys`. "
        "When it is missing or holds no key, the API is open and bound to loopback."))
    allowed_hosts: list[str] = Field(default_factory=list, description=(
        "Host names (as clients put them in the Host header) the HTTP service answers "
        "for besides loopback (localhost, 127.0.0.1, [::1]); other names get 421, so a "
        "web page cannot reach the service through a name rebound to this machine (DNS "
        "rebinding). Without API keys the list always applies; with keys only when set. "
        "`[\"*\"]` accepts any host."))
    trusted_origins: list[str] = Field(default_factory=list, description=(
        "Web origins (`https://portal.example.org`) whose pages may send writes to the "
        "service. A browser's write from any other origin than the service's own is "
        "refused (403); tools that send no Origin header are not concerned."))
    max_body_bytes: int = Field(default=16 * MIB, ge=1, description=(
        "Largest request body accepted, in bytes (default 16 MiB). A request whose "
        "Content-Length, or whose streamed body, exceeds it is answered 413."))
    max_ndjson_bytes: int = Field(default=1024 * MIB, ge=1, description=(
        "Largest NDJSON streaming body accepted by the bulk sync route, in bytes "
        "(default 1 GiB); 413 beyond it."))
    header_timeout_seconds: float = Field(default=10, gt=0, description=(
        "Seconds a client has to send a request's headers once its connection is ready "
        "for a request (default 10); then the connection is closed (with a 408 when part "
        "of a request came), so slow clients cannot hold connections open for ever."))
    worker_healthcheck_seconds: int = Field(default=60, ge=1, description=(
        "With several workers, seconds a worker has to answer its supervisor's health "
        "check before it is taken for hung, killed and replaced (default 60): a worker "
        "busy with a long question (a whole-graph read, single points of failure at "
        "millions of nodes) on a loaded machine must not be killed with its requests."))
    source_precedence: list[str] = Field(default_factory=list, description=(
        "Sources in order of precedence, highest first: when two sources describe "
        "the same component, the attributes of the earlier one win."))
    status_max_skew_seconds: float = Field(default=300, ge=0, description=(
        "How far ahead of the server's clock an observed status's `at` may be, in seconds "
        "(default 300). A status further in the future is refused (422): stored, it would "
        "make every later real observation of the node look stale."))
    retention_days: int = Field(default=30, ge=0, description=(
        "Days a retired item is kept (marked, out of impact answers) before it is purged."))

    # --- the live graph and the store ----------------------------------------------
    journal_days: float = Field(default=7.0, gt=0, description=(
        "Days the change journal keeps each change: processes further behind read the "
        "whole graph again, and history questions reach back this far."))
    record_days: float = Field(default=400.0, gt=0, description=(
        "Days the promise record keeps each transition (the last one of each node before "
        "that stays, so the state at any moment kept is known); time travel reaches back "
        "this far."))
    journal_inline_max: int = Field(default=20_000, ge=1, description=(
        "Changes of more items are journaled without their rows: other processes read "
        "the whole graph again after one."))
    store_retry_seconds: float = Field(default=5.0, gt=0, description=(
        "How long a store operation may be retried (Neo4j transactions, SQLite's wait "
        "for another writer) before the store is reported unavailable (503)."))
    neo4j_connect_timeout: float = Field(default=2.0, gt=0, description=(
        "Seconds to open a connection to Neo4j."))
    write_timeout: float = Field(default=30.0, gt=0, description=(
        "Seconds a write waits behind the other writes of its process before 503."))
    write_retries: int = Field(default=12, ge=1, description=(
        "How many times a write reads the whole graph again when the journal no longer "
        "reaches back to the version this process holds (writes are planned under the "
        "store's lock, so another process's write never makes one plan again)."))
    check_interval: float = Field(default=0.0, ge=0, description=(
        "Seconds a process trusts its last look at the store's version: reads within "
        "it do not ask the store again (0: every read asks, so every answer includes "
        "every write committed before it). Questions over HTTP trust the server's "
        "announced versions instead, unless `announce_versions` is off."))
    announce_versions: bool = Field(default=True, description=(
        "The worker processes of one `servicegraph serve` announce each version they "
        "commit to each other through a shared memory-mapped file, and a question asks "
        "the store only when a newer version than its process holds was announced: a "
        "write made through any worker is in every answer that starts after its own. "
        "Writes made outside this server (another server, the command line on the "
        "store) reach its answers within `follow_interval`, or at once for a client "
        "that sends `X-ServiceGraph-Min-Version`. Off: every question asks the store "
        "(within `check_interval`)."))
    min_version_wait: float = Field(default=1.0, ge=0, description=(
        "Seconds a request sent with `X-ServiceGraph-Min-Version` waits for the store to "
        "show that version (a cluster member may lag behind the write) before it is "
        "answered 412."))
    follow_interval: float = Field(default=0.5, ge=0, description=(
        "Seconds between this API process's looks at the store when no question comes, so "
        "that other processes' changes reach its event stream (0: only when asked)."))
    retry_interval: float = Field(default=1.0, gt=0, description=(
        "After the store failed to answer, seconds before reads ask it again; "
        "meanwhile they answer from memory, marked stale."))

    snapshot_dir: Path | None = Field(default=None, description=(
        "Directory of saved snapshots of the live graph (unset: none are saved or "
        "used). A process starts from the newest usable snapshot and replays the "
        "change journal from its version instead of reading the whole graph; one "
        "server process of those sharing the directory saves them. Give each store its "
        "own directory on a local disk."))
    snapshot_interval: float = Field(default=300.0, gt=0, description=(
        "Seconds between two snapshots saved by the server process that saves them "
        "(only when the graph changed since the last one)."))

    # --- bounds of the metrics and of the command line ---------------------------------
    metrics_max_sources: int = Field(default=100, ge=1, description=(
        "Distinct sources whose pushed items `/metrics` counts under their own name "
        "(default 100, across all workers); pushes from further sources are counted "
        "under the one source label value `<other>`, so pushes from ever new sources "
        "cannot grow every scrape without end."))
    cli_timeout: float = Field(default=30.0, gt=0, description=(
        "Seconds the command line waits for one answer of a server (`--server`), "
        "retries included, however the server sends it (default 30); then the command "
        "ends with a message and exit code 1."))
    cli_max_file_bytes: int = Field(default=16 * MIB, ge=1, description=(
        "Largest input file the command line reads, in bytes (default 16 MiB, the "
        "server's default body limit); larger files, and anything that is not a "
        "regular file (a FIFO, a device), are refused before reading."))
    cli_cache_dir: Path | None = Field(default=None, description=(
        "Folder where the command line keeps the single points of failure it computed on "
        "a store, so that the next command on a graph of the same structure answers "
        "without computing them again (default: `servicegraph` in the user's cache "
        "folder, `$XDG_CACHE_HOME` or `~/.cache`). A file that cannot be written is "
        "skipped: the command still answers."))

    # --- webhook subscriptions ------------------------------------------------------------
    subscription_allowed_networks: list[str] = Field(default_factory=list, description=(
        "Hosts and CIDR networks webhook receivers may be on, e.g. "
        "`[\"10.20.0.0/16\", \"hooks.example.org\"]`. Empty (the default): every "
        "subscription is refused (422), since a server that sends requests to addresses "
        "its callers name is a way into the network behind it. A host name not listed "
        "is allowed when all its addresses are inside a listed network."))
    subscription_timeout_seconds: float = Field(default=5.0, gt=0, description=(
        "Seconds a webhook receiver has to answer a delivery (connect and read)."))
    subscription_max_attempts: int = Field(default=8, ge=1, description=(
        "Attempts at delivering an event before it becomes a dead letter."))
    subscription_backoff_seconds: float = Field(default=1.0, gt=0, description=(
        "Wait before the second attempt; it doubles at each failure (with jitter), up to "
        "`subscription_backoff_max_seconds`."))
    subscription_backoff_max_seconds: float = Field(default=300.0, gt=0, description=(
        "Longest wait between two attempts at delivering an event."))
    subscription_lease_seconds: float = Field(default=10.0, gt=0, description=(
        "How long the process that delivers events holds its lease without renewing it; "
        "when it dies, another process takes over after this."))
    subscription_interval_seconds: float = Field(default=0.5, gt=0, description=(
        "Seconds between the dispatcher's rounds when no change wakes it."))
    subscription_keep_days: float = Field(default=7.0, gt=0, description=(
        "Days delivered webhook events are kept in the outbox before they are forgotten "
        "(dead letters stay until delivered again or their subscription is removed)."))
