"""Start the real chatdesk server for tests: in-process (uvicorn task) or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from chatdesk.accounts import service as accounts
from chatdesk.app import create_app
from chatdesk.clock import utcnow
from chatdesk.config import Settings
from chatdesk.runtime import Runtime
from chatdesk.server import uvicorn_options

STARTUP_TIMEOUT_S = 30  # hang protection only: a healthy server is up in well under a second
# Hang protection for the background embedding of the FAQ (the first server of a test process
# embeds the demo FAQ, a few seconds; later ones find the phrasings in the model's cache).
SEMANTIC_SETTLE_S = 180


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    runtime: Runtime | None = None
    agents: dict[str, str] = field(default_factory=dict)  # email -> id

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    @property
    def origin(self) -> str:
        return self.base_url

    async def create_agent(
        self,
        *,
        email: str,
        name: str = "Agent",
        password: str = "correct horse battery",
        role: str = "agent",
        languages: list[str] | None = None,
        departments: list[str] | None = None,
        max_chats: int = 3,
        auto_accept: bool = False,
    ) -> str:
        """Create an agent directly in the server's database; returns its id."""
        from chatdesk.storage import db

        engine = db.create_engine(self.settings.database_url)
        try:
            async with db.session_factory(engine)() as session:
                agent = await accounts.create_agent(
                    session,
                    email=email,
                    name=name,
                    password=password,
                    role=role,
                    languages=languages or list(self.settings.languages),
                    departments=departments or [],
                    max_chats=max_chats,
                    auto_accept=auto_accept,
                    now=utcnow(),
                )
        finally:
            await engine.dispose()
        self.agents[email] = agent.id
        return agent.id

    async def login(self, email: str, password: str = "correct horse battery") -> str:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": password}
            )
            response.raise_for_status()
            token: str = response.json()["token"]
            return token


def redis_namespace(database_url: str) -> str:
    """One Redis namespace per test database: the servers of one test share it, while
    tests running side by side on the shared Redis never hear each other."""
    return "t" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


async def upgrade_database(url: str) -> None:
    from chatdesk.storage import db

    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def start_live_server(**overrides: Any) -> AsyncIterator[LiveServer]:
    if overrides.get("redis_url") and "redis_namespace" not in overrides:
        overrides["redis_namespace"] = redis_namespace(str(overrides["database_url"]))
    settings = Settings(host="127.0.0.1", port=0, **overrides)
    if not settings.is_sqlite:  # operators run `chatdesk db upgrade`; serve does it for SQLite
        await upgrade_database(settings.database_url)
    app = create_app(settings)
    config = uvicorn.Config(app, **{**uvicorn_options(settings), "log_level": "warning"})
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped during startup")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        runtime: Runtime = app.state.runtime
        # The bot's suggestions must not change in the middle of a test: wait for the engine
        # with every evidence it is configured for.
        async with asyncio.timeout(SEMANTIC_SETTLE_S):
            await runtime.faq.wait_until_settled()
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", settings=settings, runtime=runtime)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class ServerProcess:
    """A ``chatdesk serve`` subprocess, for tests that SIGKILL the server."""

    base_url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


async def spawn_server(
    *, tmp_path: Path, port: int | None = None, env: dict[str, str] | None = None
) -> ServerProcess:
    """Start ``python -m chatdesk serve`` and wait until ``/healthz`` answers."""
    port = port or free_port()
    # Subprocess servers test processes, sockets and failures, not the bot: without the
    # embedding model each starts in a second instead of five (in-process servers share one
    # model and its cache, so they keep the default).
    full_env = {"CHATDESK_BOT_SEMANTIC": "off", **os.environ, **(env or {})}
    full_env["CHATDESK_PORT"] = str(port)
    full_env["CHATDESK_HOST"] = "127.0.0.1"
    log_path = tmp_path / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it is quick; waiting is async
            [sys.executable, "-m", "chatdesk", "serve"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,
        **{
            k[9:].lower(): v
            for k, v in full_env.items()
            if k.startswith("CHATDESK_") and not k.startswith("CHATDESK_TEST")
        },
    )  # type: ignore[call-arg]
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S), httpx.AsyncClient() as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited: {log_path.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base_url}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
    except BaseException:  # never leave a half-started server behind
        if process.poll() is None:
            process.kill()
        process.wait()
        raise
    return ServerProcess(base_url=base_url, settings=settings, process=process, log_path=log_path)
