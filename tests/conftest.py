"""Shared fixtures: real servers on ephemeral ports, real databases, real clients.

Every storage-touching fixture is parametrized over SQLite and PostgreSQL (the latter when
``CHATDESK_TEST_DATABASE_URL`` is set; each test gets a fresh database of its own).
With ``CI`` set, a test that would skip for a missing service or browser fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import LiveServer, start_live_server

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_FAQ = REPO_ROOT / "faq"


def require_service(env_var: str) -> str:
    """The URL in ``env_var``; skip (or, under CI, fail) with a clear reason when unset."""
    value = os.environ.get(env_var)
    if value:
        return value
    reason = f"{env_var} is not set: this test needs that service"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


async def _create_pg_database(admin_url: str) -> tuple[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"chatdesk_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'chatdesk.db'}"
        return
    admin_url = require_service("CHATDESK_TEST_DATABASE_URL")
    url, name = await _create_pg_database(admin_url)
    try:
        yield url
    finally:
        await _drop_pg_database(admin_url, name)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, for tests of the scale-out mode only."""
    admin_url = require_service("CHATDESK_TEST_DATABASE_URL")
    url, name = await _create_pg_database(admin_url)
    try:
        yield url
    finally:
        await _drop_pg_database(admin_url, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chatdesk.db'}"


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, Any]:
    """Settings overrides shared by in-process and subprocess servers."""
    return {
        "faq_dir": DEMO_FAQ,
        "secret_key": "test-secret-key-0123456789abcdef",
        "rate_limits": "on",
    }


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    """Settings one test needs on top of its module's ``server_env`` (parametrize it)."""
    return {}


@pytest.fixture
async def live_server(
    database_url: str, server_env: dict[str, Any], server_overrides: dict[str, Any]
) -> AsyncIterator[LiveServer]:
    """The real app served by uvicorn on an ephemeral port, in this event loop."""
    settings = {**server_env, **server_overrides}
    async with start_live_server(database_url=database_url, **settings) as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under CI every skip is a failure: skips here only ever mean a missing service,
    browser or tool (PostgreSQL, Redis, Chromium, axe-core), which CI must provide."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI (a required service or tool is missing): {reason}"
