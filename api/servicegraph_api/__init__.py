"""The HTTP API of servicegraph: a thin FastAPI layer over the library.

``create_app()`` builds the app; ``servicegraph serve`` runs it with uvicorn.
"""

from servicegraph_api.app import create_app

__all__ = ["create_app"]
