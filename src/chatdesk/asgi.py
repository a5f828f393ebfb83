"""ASGI entry for ``chatdesk serve --workers N`` (and external servers such as gunicorn).

Each worker process calls ``app_factory()`` and builds its own ``Settings`` from the
environment (the CLI exports its flags there first), so all workers agree. Nothing is
built at import time.
"""

from __future__ import annotations

from fastapi import FastAPI

from chatdesk.app import create_app
from chatdesk.config import Settings


def app_factory() -> FastAPI:
    return create_app(Settings())
