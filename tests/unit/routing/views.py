"""Builders of the routing rules' inputs with everyday defaults, so that each example names
only what it is about: an online, connected English agent with free seats, and a
conversation in English that has waited ten seconds at normal priority.

Times are relative to ``NOW`` (pass ``now=NOW`` to the rules).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatdesk.routing.rules import PRIORITY_NORMAL, AgentView, WaitingView

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def agent(
    agent_id: str,
    *,
    status: str = "online",
    connected: bool = True,
    languages: tuple[str, ...] = ("en",),
    departments: tuple[str, ...] = (),
    max_chats: int = 3,
    active_chats: int = 0,
    pending_offers: int = 0,
    last_assigned_ago_s: float | None = None,
) -> AgentView:
    last = None if last_assigned_ago_s is None else NOW - timedelta(seconds=last_assigned_ago_s)
    return AgentView(
        id=agent_id,
        status=status,
        connected=connected,
        languages=frozenset(languages),
        departments=frozenset(departments),
        max_chats=max_chats,
        active_chats=active_chats,
        pending_offers=pending_offers,
        last_assigned_at=last,
    )


def waiting(
    conv_id: str,
    *,
    lang: str = "en",
    department: str | None = None,
    waited_s: float = 10.0,
    priority: int = PRIORITY_NORMAL,
    excluded: tuple[str, ...] = (),
    offered_to: str | None = None,
) -> WaitingView:
    return WaitingView(
        conversation_id=conv_id,
        lang=lang,
        department=department,
        queued_at=NOW - timedelta(seconds=waited_s),
        priority=priority,
        excluded_agents=frozenset(excluded),
        offered_to=offered_to,
    )
