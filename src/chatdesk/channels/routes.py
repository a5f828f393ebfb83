"""Mounts every router and static asset on the app."""

from __future__ import annotations

from fastapi import FastAPI

from chatdesk.channels import agent_ws, http_agents, http_auth, http_health, visitor_ws
from chatdesk.config import Settings


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(http_health.router)
    app.include_router(http_auth.router)
    app.include_router(http_agents.router)
    app.include_router(visitor_ws.router)
    app.include_router(agent_ws.router)
