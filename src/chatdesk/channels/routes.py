"""Mounts every router and static asset on the app."""

from __future__ import annotations

from fastapi import FastAPI

from chatdesk.channels import (
    agent_ws,
    http_agents,
    http_auth,
    http_bot,
    http_conversations,
    http_health,
    http_static,
    visitor_ws,
)


def install(app: FastAPI) -> None:
    for module in (http_health, http_auth, http_agents, http_bot, http_conversations):
        app.include_router(module.router)
    app.include_router(visitor_ws.router)
    app.include_router(agent_ws.router)
    http_static.mount(app)
