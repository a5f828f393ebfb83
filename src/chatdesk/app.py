"""The application factory: ``create_app(settings)`` wires every part in one lifespan.

Start order: database (upgrade embedded SQLite) -> broker -> FAQ -> services -> background
tasks. Stop order is the reverse: stop accepting -> close sockets with 1001 -> stop tasks ->
close broker -> dispose engine. See docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chatdesk import __version__
from chatdesk.config import Settings
from chatdesk.errors import ChatdeskError
from chatdesk.runtime import Runtime

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="chatdesk",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    @app.exception_handler(ChatdeskError)
    async def _chatdesk_error(_request: Request, exc: ChatdeskError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.http_status)

    from chatdesk.channels import routes

    routes.install(app)
    return app
