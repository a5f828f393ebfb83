"""``/api/v1/auth``: log in (token + cookie), log out, and who am I.

Login answers the same 401 for an unknown email and a wrong password, after the same
password-hashing work, so neither the body nor the timing tells which emails exist.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from chatdesk.accounts import service as accounts
from chatdesk.accounts.passwords import MAX_PASSWORD_CHARS
from chatdesk.accounts.service import MAX_EMAIL_CHARS, Role
from chatdesk.channels.auth import (
    CurrentAgent,
    PresentedToken,
    clear_session_cookie,
    set_session_cookie,
    verify_token,
)
from chatdesk.channels.deps import RuntimeDep, SessionDep
from chatdesk.clock import utcnow
from chatdesk.errors import UnauthorizedError

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginRequest(BaseModel):
    email: str = Field(max_length=MAX_EMAIL_CHARS)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime


class Me(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    languages: list[str]
    departments: list[str]
    max_chats: int
    status: str
    auto_accept: bool


@router.post("/login")
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
) -> LoginResponse:
    now = utcnow()
    ttl_s = runtime.settings.agent_token_ttl_s
    agent, session_id, _ = await accounts.authenticate(
        session, email=body.email, password=body.password, now=now, ttl_s=ttl_s
    )
    token, expires_at = runtime.signer.issue(
        "agent", agent.id, now=now, ttl_s=ttl_s, session_id=session_id
    )
    set_session_cookie(response, request, token, max_age_s=ttl_s)
    return LoginResponse(token=token, expires_at=expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    token: PresentedToken,
) -> None:
    """Revoke the login behind the presented token and clear the cookie.

    Idempotent: an already invalid or missing token still clears the cookie, so a
    console whose session expired can always log out cleanly.
    """
    now = utcnow()
    if token is not None:
        try:
            _, session_id = verify_token(runtime, token, now=now)
        except UnauthorizedError:
            pass
        else:
            await accounts.logout(session, session_id=session_id, now=now)
    clear_session_cookie(response, request)


@router.get("/me")
async def me(agent: CurrentAgent) -> Me:
    return Me(
        id=agent.id,
        email=agent.email,
        name=agent.name,
        role=agent.role,
        languages=list(agent.languages),
        departments=list(agent.departments),
        max_chats=agent.max_chats,
        status=agent.status,
        auto_accept=agent.auto_accept,
    )
