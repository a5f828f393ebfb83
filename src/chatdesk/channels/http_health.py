"""``/healthz`` (the process is alive) and ``/readyz`` (the database answers; Redis reported)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from chatdesk.channels.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = {"database": "ok"}
    status = 200
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"; say which
        body["database"] = f"error: {type(exc).__name__}"
        status = 503
    body["status"] = "ready" if status == 200 else "not ready"
    return JSONResponse(body, status_code=status)
