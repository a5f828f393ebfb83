"""``/healthz`` (the process is alive) and ``/readyz`` (the database answers; Redis reported)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
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
    if runtime.settings.redis_url is not None:
        # Redis carries only fan-out and liveness: without it this process still serves its
        # own sockets from the database, so it stays ready and says Redis is degraded.
        body["redis"] = "ok" if runtime.broker.healthy else "unreachable"
    else:
        body["redis"] = "not configured"
    body["status"] = "ready" if status == 200 else "not ready"
    return JSONResponse(body, status_code=status)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> str:
    """Prometheus text format: this process's sockets, message throughput and FAQ state."""
    hub = runtime.hub
    faq = runtime.faq.status()
    lines = [
        "# TYPE chatdesk_visitor_connections gauge",
        f"chatdesk_visitor_connections {sum(len(v) for v in hub.visitors.values())}",
        "# TYPE chatdesk_agent_connections gauge",
        f"chatdesk_agent_connections {sum(len(a) for a in hub.agents.values())}",
        "# TYPE chatdesk_messages_stored_total counter",
        f"chatdesk_messages_stored_total {runtime.writer.messages}",
        "# TYPE chatdesk_message_commits_total counter",
        f"chatdesk_message_commits_total {runtime.writer.batches}",
        "# TYPE chatdesk_queue_waiting gauge",
        f"chatdesk_queue_waiting {hub.queue_waiting[0]}",
        "# TYPE chatdesk_faq_entries gauge",
        f"chatdesk_faq_entries {faq.entries}",
        "# TYPE chatdesk_faq_ok gauge",
        f"chatdesk_faq_ok {int(faq.ok)}",
        "# TYPE chatdesk_broker_healthy gauge",
        f"chatdesk_broker_healthy {int(runtime.broker.healthy)}",
    ]
    return "\n".join(lines) + "\n"
