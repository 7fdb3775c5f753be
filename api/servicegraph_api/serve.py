"""Running the API with uvicorn (``servicegraph serve``)."""

from __future__ import annotations

import json
import logging
import os

from servicegraph.settings import Settings
from servicegraph_api.auth import KeyFile, is_loopback
from servicegraph_api.metrics import worker_directory

log = logging.getLogger("servicegraph.api")

LOOPBACK = "127.0.0.1"

__all__ = ["LOOPBACK", "bind_host", "is_loopback", "run"]


def bind_host(settings: Settings) -> tuple[str, str | None]:
    """The address to bind, and a warning to log when there is no API key.

    Without a key the API is open, so it binds to loopback whatever was asked.
    """
    if KeyFile(settings.api_keys_file).configured():
        return settings.host, None
    if is_loopback(settings.host):
        return settings.host, (
            f"no API key configured ({settings.api_keys_file} has none): the API is open "
            f"to anyone on this machine; it listens on {settings.host} only. "
            "Add a key with `servicegraph keys add NAME --scope read`.")
    return LOOPBACK, (
        f"no API key configured ({settings.api_keys_file} has none): refusing to listen on "
        f"{settings.host}; listening on {LOOPBACK} (loopback) only. Add a key with "
        "`servicegraph keys add NAME --scope read` to serve other machines.")


def run(settings: Settings) -> None:
    """Serve the API with uvicorn until interrupted."""
    import uvicorn

    from servicegraph_api.app import create_app
    from servicegraph_api.freshness import version_board
    from servicegraph_api.header_timeout import protocol_with_header_timeout
    from servicegraph_api.logs import configure_logging

    # The keys file is read before logging is set up: a broken one stops the start
    # with one message instead of configuring anything.
    host, warning = bind_host(settings)
    configure_logging()
    if warning:
        log.warning(warning)
    log.info("servicegraph API on http://%s:%d (docs at /docs), store %s, %d worker(s)",
             host, settings.port, settings.store, settings.workers)
    # h11 with a deadline on request headers: uvicorn has none of its own.
    http = protocol_with_header_timeout(settings.header_timeout_seconds)
    # The processes of this run announce committed versions on one board (see
    # servicegraph_api.freshness): questions ask the store only when one is newer.
    with version_board():
        if settings.workers == 1:
            uvicorn.run(create_app(settings), host=host, port=settings.port,
                        access_log=False, log_config=None, http=http)
            return
        _run_workers(settings, host)


def _run_workers(settings: Settings, host: str) -> None:
    import uvicorn

    # Each worker process builds its own app (and its own copy of the graph) from the
    # environment: hand it the settings given on the command line that way.
    os.environ.update(settings_environment(settings))
    # The workers count into files of one directory, so that a scrape, whichever
    # worker takes it, answers the totals of all of them.
    with worker_directory():
        uvicorn.run("servicegraph_api.app:create_app", factory=True, host=host,
                    port=settings.port, workers=settings.workers, access_log=False,
                    log_config=None,
                    http="servicegraph_api.header_timeout:EnvironmentProtocol",
                    # uvicorn kills a worker that misses one health check (5 s by
                    # default): a busy worker on a loaded machine is not hung.
                    timeout_worker_healthcheck=settings.worker_healthcheck_seconds)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes ``Settings()`` equal ``settings`` (its set fields).

    >>> env = settings_environment(Settings(_env_file=None, store="g.db", port=9000))
    >>> env["SERVICEGRAPH_PORT"], env["SERVICEGRAPH_STORE"]
    ('9000', 'g.db')
    """
    out = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        secret = getattr(settings, name)
        if hasattr(secret, "get_secret_value"):
            value = secret.get_secret_value()
        out[f"SERVICEGRAPH_{name.upper()}"] = value if isinstance(value, str) else \
            json.dumps(value)
    return out
