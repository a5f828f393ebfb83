"""Agent accounts and login sessions: create, list, disable, authenticate, log out.

Keyword-only async functions over one ``AsyncSession`` (the caller's unit of work) that
return ``AgentAccount`` values, never ORM rows. Emails are stored lowercased, so logins are
case-insensitive and the unique index catches ``Anna@x`` next to ``anna@x``. A login is an
``AgentSession`` row named by the agent's token: logout and disabling revoke it at once,
however long the token itself would still be valid.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.accounts import passwords
from chatdesk.clock import new_id
from chatdesk.config import SUPPORTED_LANGUAGES
from chatdesk.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from chatdesk.storage.tables import Agent, AgentSession

Role = Literal["agent", "supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
MAX_CHATS_RANGE = (1, 50)  # beyond 50 parallel chats nobody answers well; 0 is "disabled"
MAX_NAME_CHARS = 200  # the column width
MAX_EMAIL_CHARS = 320  # RFC 5321: 64 local + @ + 255 domain
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]+$")
_DEPARTMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LOGIN_FAILED = "wrong email or password"  # one message for both causes: no account probing


@dataclass(frozen=True, slots=True)
class AgentAccount:
    id: str
    email: str
    name: str
    role: Role
    languages: tuple[str, ...]
    departments: tuple[str, ...]
    max_chats: int
    status: str
    auto_accept: bool
    disabled: bool


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(",") if part)


def _account(row: Agent) -> AgentAccount:
    role: Role = row.role if row.role in ROLES else "agent"
    return AgentAccount(
        id=row.id,
        email=row.email,
        name=row.name,
        role=role,
        languages=_split(row.languages),
        departments=_split(row.departments),
        max_chats=row.max_chats,
        status=row.status,
        auto_accept=row.auto_accept,
        disabled=row.disabled,
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_email(email: str) -> str:
    normalized = normalize_email(email)
    if len(normalized) > MAX_EMAIL_CHARS or not _EMAIL.match(normalized):
        raise BadRequestError(f"invalid email address {email!r}")
    return normalized


def _check_languages(languages: Iterable[str]) -> tuple[str, ...]:
    codes = [code.strip().lower().replace("_", "-").split("-")[0] for code in languages]
    codes = [code for code in codes if code]
    unknown = sorted(set(codes) - set(SUPPORTED_LANGUAGES))
    if unknown:
        raise BadRequestError(
            f"unsupported language(s) {', '.join(unknown)}; "
            f"choose from {','.join(SUPPORTED_LANGUAGES)}"
        )
    if not codes:
        raise BadRequestError("an agent needs at least one language")
    return tuple(dict.fromkeys(codes))


def _check_departments(departments: Iterable[str]) -> tuple[str, ...]:
    names = [name.strip() for name in departments if name.strip()]
    for name in names:
        if not _DEPARTMENT.match(name):
            raise BadRequestError(
                f"invalid department {name!r}: use letters, digits, '-', '_' or '.' (max 64)"
            )
    return tuple(dict.fromkeys(names))


def _check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_CHARS:
        raise BadRequestError(
            f"password must be at least {passwords.MIN_PASSWORD_CHARS} characters"
        )
    if len(password) > passwords.MAX_PASSWORD_CHARS:
        raise BadRequestError(f"password must be at most {passwords.MAX_PASSWORD_CHARS} characters")


async def create_agent(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password: str,
    role: str = "agent",
    languages: Sequence[str],
    departments: Sequence[str] = (),
    max_chats: int = 3,
    auto_accept: bool = False,
    now: datetime,
) -> AgentAccount:
    """Validate and store a new agent; commits. ConflictError when the email is taken."""
    normalized = _check_email(email)
    clean_name = name.strip()
    if not clean_name or len(clean_name) > MAX_NAME_CHARS:
        raise BadRequestError(f"name must be 1..{MAX_NAME_CHARS} characters")
    if role not in ROLES:
        raise BadRequestError(f"invalid role {role!r}; choose from {', '.join(ROLES)}")
    langs = _check_languages(languages)
    depts = _check_departments(departments)
    low, high = MAX_CHATS_RANGE
    if not low <= max_chats <= high:
        raise BadRequestError(f"max_chats must be between {low} and {high}")
    _check_password(password)
    if await _row_by_email(session, normalized) is not None:
        raise ConflictError(f"an agent with email {normalized} already exists")
    row = Agent(
        id=new_id(),
        email=normalized,
        name=clean_name,
        password_hash=await asyncio.to_thread(passwords.hash_password, password),
        role=role,
        languages=",".join(langs),
        departments=",".join(depts),
        max_chats=max_chats,
        status="offline",
        auto_accept=auto_accept,
        disabled=False,
        expired_offers_in_row=0,
        created_at=now,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:  # a concurrent create of the same email won the race
        await session.rollback()
        raise ConflictError(f"an agent with email {normalized} already exists") from exc
    return _account(row)


async def _row_by_email(session: AsyncSession, email: str) -> Agent | None:
    result = await session.execute(select(Agent).where(Agent.email == normalize_email(email)))
    return result.scalar_one_or_none()


async def list_agents(session: AsyncSession) -> list[AgentAccount]:
    result = await session.execute(select(Agent).order_by(Agent.name, Agent.email))
    return [_account(row) for row in result.scalars()]


async def get_agent(session: AsyncSession, agent_id: str) -> AgentAccount | None:
    row = await session.get(Agent, agent_id)
    return None if row is None else _account(row)


async def get_agent_by_email(session: AsyncSession, email: str) -> AgentAccount | None:
    row = await _row_by_email(session, email)
    return None if row is None else _account(row)


async def disable_agent(session: AsyncSession, *, email: str, now: datetime) -> AgentAccount:
    """Disable the agent with this email and revoke every login of theirs; commits."""
    row = await _row_by_email(session, email)
    if row is None:
        raise NotFoundError(f"no agent with email {normalize_email(email)}")
    return await _disable(session, row, now=now)


async def disable_agent_by_id(
    session: AsyncSession, *, agent_id: str, now: datetime
) -> AgentAccount:
    """Like ``disable_agent``, for the admin API that names agents by id."""
    row = await session.get(Agent, agent_id)
    if row is None:
        raise NotFoundError(f"no agent with id {agent_id}")
    return await _disable(session, row, now=now)


async def _disable(session: AsyncSession, row: Agent, *, now: datetime) -> AgentAccount:
    row.disabled = True
    row.status = "offline"  # a disabled agent must never be offered a chat
    await session.execute(
        update(AgentSession)
        .where(AgentSession.agent_id == row.id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()
    return _account(row)


async def authenticate(
    session: AsyncSession, *, email: str, password: str, now: datetime, ttl_s: float
) -> tuple[AgentAccount, str, datetime]:
    """Check the password and open a login session: ``(account, session_id, expires_at)``.

    UnauthorizedError with one message for an unknown email and a wrong password (after
    the same argon2 work), ForbiddenError for a disabled account. Commits.
    """
    row = await _row_by_email(session, email)
    stored_hash = row.password_hash if row is not None else passwords.dummy_hash()
    ok = await asyncio.to_thread(passwords.verify_password, stored_hash, password)
    if row is None or not ok:
        raise UnauthorizedError(LOGIN_FAILED)
    if row.disabled:
        raise ForbiddenError("this account is disabled")
    if passwords.needs_rehash(row.password_hash):
        row.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    login = AgentSession(
        id=new_id(), agent_id=row.id, created_at=now, expires_at=now + timedelta(seconds=ttl_s)
    )
    session.add(login)
    await session.commit()
    return _account(row), login.id, login.expires_at


async def logout(session: AsyncSession, *, session_id: str, now: datetime) -> None:
    """Revoke one login session (idempotent); commits."""
    await session.execute(
        update(AgentSession)
        .where(AgentSession.id == session_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()


async def agent_for_session(
    session: AsyncSession, *, agent_id: str, session_id: str, now: datetime
) -> AgentAccount:
    """The agent behind a live login; UnauthorizedError if revoked, expired or disabled."""
    result = await session.execute(
        select(Agent, AgentSession)
        .join(AgentSession, AgentSession.agent_id == Agent.id)
        .where(AgentSession.id == session_id, Agent.id == agent_id)
    )
    found = result.one_or_none()
    if found is None:
        raise UnauthorizedError("unknown session; log in again")
    row, login = found
    if login.revoked_at is not None:
        raise UnauthorizedError("logged out; log in again")
    if login.expires_at <= now:
        raise UnauthorizedError("session expired; log in again")
    if row.disabled:
        raise UnauthorizedError("this account is disabled")
    return _account(row)


@dataclass(frozen=True, slots=True)
class _DemoAgent:
    email: str
    name: str
    password: str
    role: Role
    languages: tuple[str, ...]
    departments: tuple[str, ...]


# Well-known credentials for `make run` on a developer's machine; never seed a real server.
DEMO_AGENTS = (
    _DemoAgent(
        "anna@example.com", "Anna Nováková", "demo-anna", "agent", ("en", "cs", "sk"), ("sales",)
    ),
    _DemoAgent(
        "piotr@example.com",
        "Piotr Kowalski",
        "demo-piotr",
        "agent",
        ("en", "pl", "et", "lv"),
        ("support",),
    ),
    _DemoAgent(
        "eva@example.com",
        "Eva Supervisor",
        "demo-eva",
        "supervisor",
        SUPPORTED_LANGUAGES,
        ("sales", "support"),
    ),
    _DemoAgent("admin@example.com", "Admin", "demo-admin", "admin", ("en",), ()),
)


async def ensure_demo_agents(session: AsyncSession, *, now: datetime) -> list[tuple[str, str]]:
    """Create the demo accounts that are missing; return the demo logins that work.

    Idempotent. An existing account whose password was changed (or that is disabled) is
    left alone and not listed, so the printed credentials are always usable.
    """
    usable: list[tuple[str, str]] = []
    for demo in DEMO_AGENTS:
        row = await _row_by_email(session, demo.email)
        if row is None:
            await create_agent(
                session,
                email=demo.email,
                name=demo.name,
                password=demo.password,
                role=demo.role,
                languages=demo.languages,
                departments=demo.departments,
                max_chats=3,
                now=now,
            )
        elif row.disabled or not await asyncio.to_thread(
            passwords.verify_password, row.password_hash, demo.password
        ):
            continue
        usable.append((demo.email, demo.password))
    return usable
