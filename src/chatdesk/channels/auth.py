"""Agent authentication for HTTP routes and the agent websocket.

A token travels as ``Authorization: Bearer TOKEN`` (API clients) or in the HttpOnly cookie
``chatdesk_session`` (the console), never in a URL. It is accepted only while its login
session is alive in the database, so logout and disabling an agent take effect at once.
The cookie is ``SameSite=Strict``: a foreign site cannot make the browser send it, which
is what protects the cookie-authenticated POST endpoints from cross-site requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from chatdesk.accounts import service as accounts
from chatdesk.accounts.service import AgentAccount, Role
from chatdesk.accounts.tokens import InvalidTokenError
from chatdesk.channels.deps import RuntimeDep
from chatdesk.clock import utcnow
from chatdesk.errors import ForbiddenError, UnauthorizedError
from chatdesk.runtime import Runtime

SESSION_COOKIE = "chatdesk_session"

_bearer = HTTPBearer(auto_error=False, description="An agent token from /api/v1/auth/login")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Set by login")


def verify_token(runtime: Runtime, token: str, *, now: datetime) -> tuple[str, str]:
    """``(agent_id, session_id)`` of a well-signed, unexpired agent token, else 401."""
    try:
        claims = runtime.signer.verify(token, "agent", now=now)
    except InvalidTokenError as exc:
        raise UnauthorizedError(f"invalid token ({exc}); log in again") from exc
    if claims.session_id is None:
        raise UnauthorizedError("invalid token (no session); log in again")
    return claims.subject, claims.session_id


async def authenticate_token(runtime: Runtime, token: str) -> AgentAccount:
    """The agent a token belongs to, if its login session is still alive."""
    now = utcnow()
    agent_id, session_id = verify_token(runtime, token, now=now)
    async with runtime.sessions() as session:
        return await accounts.agent_for_session(
            session, agent_id=agent_id, session_id=session_id, now=now
        )


def presented_token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> str | None:
    """The bearer token when given (explicit beats ambient), else the cookie, else None."""
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return cookie or None


PresentedToken = Annotated[str | None, Depends(presented_token)]


async def current_agent(runtime: RuntimeDep, token: PresentedToken) -> AgentAccount:
    if token is None:
        raise UnauthorizedError("not logged in")
    return await authenticate_token(runtime, token)


CurrentAgent = Annotated[AgentAccount, Depends(current_agent)]


def require_role(*roles: Role) -> Callable[[AgentAccount], Awaitable[AgentAccount]]:
    """A dependency that lets through only agents with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(agent: CurrentAgent) -> AgentAccount:
        if agent.role not in allowed:
            raise ForbiddenError(f"this needs the role {' or '.join(sorted(allowed))}")
        return agent

    return check


AdminAgent = Annotated[AgentAccount, Depends(require_role("admin"))]
SupervisorAgent = Annotated[AgentAccount, Depends(require_role("supervisor", "admin"))]


def set_session_cookie(response: Response, request: Request, token: str, *, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
