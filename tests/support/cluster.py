"""Several real ``chatdesk serve`` processes sharing one fresh PostgreSQL database and Redis.

The scale-out tests (``tests/integration/test_scaleout_*.py``) and ``bench/scaleout.py``
start a ``Cluster``: a new PostgreSQL database (upgraded, as operators do with
``chatdesk db upgrade``), then N subprocess servers on their own ports with the same
``SECRET_KEY``, database and Redis. Processes can be SIGKILLed and replaced one by one.
Agents are created straight in the database (any process sees them: it is the authority).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from chatdesk.config import Settings
from tests.support.clients import WsClient, agent, visitor
from tests.support.server import (
    LiveServer,
    ServerProcess,
    redis_namespace,
    spawn_server,
    upgrade_database,
)

SECRET_KEY = "scale-out-test-secret-0123456789abcdef"  # the same on every process


@dataclass
class Cluster:
    """The processes of one deployment, and what they share."""

    database_url: str
    redis_url: str
    tmp_path: Path
    env: dict[str, str]
    processes: list[ServerProcess] = field(default_factory=list)

    def node(self, index: int) -> LiveServer:
        """A handle on process ``index`` for HTTP (login) and database helpers."""
        process = self.processes[index]
        return LiveServer(base_url=process.base_url, settings=process.settings)

    async def spawn(self) -> ServerProcess:
        """Start one more process; it joins the cluster through the database and Redis."""
        process = await spawn_server(tmp_path=self.tmp_path, env=self.env)
        self.processes.append(process)
        # A hang timeout can skip async fixture teardown: never leave a server running.
        atexit.register(process.terminate)
        return process

    async def create_agent(self, email: str, **fields: object) -> str:
        """Create an agent in the shared database; returns its id."""
        return await self.node(0).create_agent(email=email, **fields)  # type: ignore[arg-type]

    async def login(self, email: str, *, via: int = 0) -> str:
        return await self.node(via).login(email)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()


def cluster_env(*, database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """Environment for every process: the shared URLs and key, plus ``settings`` overrides.

    The test runner's own ``CHATDESK_*`` variables are dropped so they cannot leak in.
    """
    from tests.conftest import DEMO_FAQ

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
    env.update(
        {
            "CHATDESK_DATABASE_URL": database_url,
            "CHATDESK_REDIS_URL": redis_url,
            "CHATDESK_REDIS_NAMESPACE": redis_namespace(database_url),
            "CHATDESK_SECRET_KEY": SECRET_KEY,
            "CHATDESK_FAQ_DIR": str(DEMO_FAQ),
            "CHATDESK_LOG_LEVEL": "warning",
        }
    )
    env.update({f"CHATDESK_{name.upper()}": value for name, value in settings.items()})
    return env


@contextlib.asynccontextmanager
async def start_cluster(
    *, admin_database_url: str, redis_url: str, tmp_path: Path, processes: int, **settings: str
) -> AsyncIterator[Cluster]:
    """``processes`` servers on a fresh database; everything is removed afterwards."""
    from tests.conftest import _create_pg_database, _drop_pg_database

    env = cluster_env(database_url="postgresql://", redis_url=redis_url, **settings)
    settings_from_env(env)  # fail fast on a misspelt setting
    database_url, name = await _create_pg_database(admin_database_url)
    env["CHATDESK_DATABASE_URL"] = database_url
    env["CHATDESK_REDIS_NAMESPACE"] = redis_namespace(database_url)
    cluster = Cluster(database_url=database_url, redis_url=redis_url, tmp_path=tmp_path, env=env)
    try:
        await upgrade_database(database_url)
        for _ in range(processes):  # one by one: startups compete for CPU on small machines
            await cluster.spawn()
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)
        await _drop_pg_database(admin_database_url, name)


def settings_from_env(env: dict[str, str]) -> Settings:
    """The ``Settings`` a process started with ``env`` builds (and a check for typos)."""
    fields: dict[str, Any] = {
        key[len("CHATDESK_") :].lower(): value
        for key, value in env.items()
        if key.startswith("CHATDESK_")
    }
    return Settings(_env_file=None, **fields)


class AcceptingConsole:
    """An agent console that accepts every offer it gets, run by a reader task.

    It records what the agent saw (offers, assignments, errors) so a test can compare the
    agent's view with the database. ``reconnect`` moves it to another process, resuming
    every assigned conversation with its ``after_seq``.
    """

    def __init__(self, agent_id: str, token: str) -> None:
        self.agent_id = agent_id
        self.token = token
        self.client: WsClient | None = None
        self.offers: list[str] = []
        self.assigned: dict[str, int] = {}  # conversation -> last seq seen
        self.assigned_frames: list[str] = []  # every ``assigned`` frame, in arrival order
        self.seen: dict[str, set[int]] = {}  # conversation -> every seq received
        self.duplicates = 0  # a seq received twice on one conversation
        self.own_acks: set[str] = set()  # client_ids of this agent's acknowledged messages
        self.arrivals: dict[str, float] = {}  # message id -> time.monotonic() on arrival
        self.errors: list[dict[str, Any]] = []
        self.accepting = True
        self.closing = False  # close every chat as soon as it is assigned (churn)
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, ws_url: str, *, status: str | None = "online") -> dict[str, Any]:
        self.client, welcome = await agent(ws_url, self.token, resume=dict(self.assigned))
        for conversation in welcome["conversations"]:
            self._saw(conversation["conversation_id"], conversation["messages"])
        if status is not None:
            await self.client.send({"type": "status", "status": status})
            await self.client.expect("status", lambda f: f["status"] == status)
        for frame in self.client._pending:  # offers re-sent in the welcome's wake
            if frame["type"] == "offer":
                await self._on_offer(frame)
        self.client._pending = [f for f in self.client._pending if f["type"] != "offer"]
        self._reader = asyncio.create_task(self._read(self.client))
        return welcome

    def _saw(self, conversation_id: str, messages: list[dict[str, Any]]) -> None:
        seen = self.seen.setdefault(conversation_id, set())
        for message in messages:
            if message["seq"] in seen:
                self.duplicates += 1
            seen.add(message["seq"])
        self.assigned[conversation_id] = max(seen, default=0)

    async def _on_offer(self, frame: dict[str, Any]) -> None:
        self.offers.append(frame["conversation_id"])
        if self.accepting and self.client is not None:
            await self.client.send({"type": "accept", "conversation_id": frame["conversation_id"]})

    async def _read(self, client: WsClient) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in client.connection:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "offer":
                    await self._on_offer(frame)
                elif kind == "assigned":
                    self.assigned_frames.append(frame["conversation_id"])
                    self._saw(frame["conversation_id"], frame["messages"])
                    if self.closing:
                        await self.close_conversation(frame["conversation_id"])
                elif kind == "message" and frame["conversation_id"] in self.assigned:
                    self.arrivals[frame["id"]] = time.monotonic()
                    if frame["author"] == "agent" and frame.get("client_id"):
                        self.own_acks.add(frame["client_id"])
                    self._saw(frame["conversation_id"], [frame])
                elif kind == "closed":
                    self.assigned.pop(frame["conversation_id"], None)
                elif kind == "error":
                    self.errors.append(frame)

    async def close_conversation(self, conversation_id: str) -> None:
        assert self.client is not None
        await self.client.send({"type": "close", "conversation_id": conversation_id})

    async def start_closing(self) -> None:
        """From now on close every chat: the ones held now and each one assigned later."""
        self.closing = True
        for conversation_id in list(self.assigned):
            await self.close_conversation(conversation_id)

    async def drop(self) -> None:
        """The socket is gone (its process died or the client closed it): stop reading."""
        await _hang_up(self._reader, self.client)


class ChatVisitor:
    """A widget that survives its server: it resumes on any process with ``after_seq``.

    A reader task records every ``message`` frame by ``seq`` (a repeat counts as a
    duplicate) and resolves acknowledgements by ``client_id``, so a test can send while the
    connection may die, re-send unacknowledged messages elsewhere, and check afterwards
    that the visitor saw every seq exactly once.
    """

    def __init__(self) -> None:
        self.token: str | None = None
        self.conversation_id: str | None = None
        self.client: WsClient | None = None
        self.messages: dict[int, dict[str, Any]] = {}
        self.duplicates = 0
        self.frames: list[dict[str, Any]] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        return max(self.messages, default=0)

    async def connect(self, ws_url: str) -> dict[str, Any]:
        resume: dict[str, Any] = {}
        if self.conversation_id is not None:
            resume = {"conversation_id": self.conversation_id, "after_seq": self.last_seq}
        self.client, welcome = await visitor(ws_url, token=self.token, **resume)
        self.token, self.conversation_id = welcome["token"], welcome["conversation_id"]
        for message in welcome["messages"]:
            self._record(message)
        for frame in self.client._pending:
            self._on_frame(frame)
        self.client._pending.clear()
        self._reader = asyncio.create_task(self._read(self.client))
        return welcome

    def _record(self, message: dict[str, Any]) -> None:
        if message["seq"] in self.messages:
            self.duplicates += 1
        self.messages[message["seq"]] = message

    def _on_frame(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        if frame["type"] == "message":
            waiter = self._acks.pop(frame.get("client_id") or "", None)
            known = self.messages.get(frame["seq"])
            if waiter is None or known is None or known["id"] != frame["id"]:
                # A re-sent client_id is answered with the stored message again: that ack is
                # not a duplicate delivery.
                self._record(frame)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)

    async def _read(self, client: WsClient) -> None:
        try:
            async for raw in client.connection:
                self._on_frame(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            for waiter in self._acks.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("connection lost before the ack"))
            self._acks.clear()

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.client is not None
        await self.client.send(frame)

    async def say(self, text: str, client_id: str, *, timeout_s: float = 10) -> dict[str, Any]:
        """Send a message and wait for its acknowledgement (the stored message).

        Raises ``ConnectionError`` when the connection is lost first: re-send the same
        ``client_id`` after reconnecting."""
        assert self.client is not None
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[client_id] = waiter
        try:
            await self.client.send({"type": "message", "client_id": client_id, "text": text})
        except websockets.ConnectionClosed as exc:
            self._acks.pop(client_id, None)
            raise ConnectionError("connection lost before the send") from exc
        async with asyncio.timeout(timeout_s):
            return await waiter

    def seqs_are_complete(self) -> bool:
        """Every seq from 1 to the last one was seen (true while nobody writes private
        notes: those take a seq that visitors never get)."""
        return sorted(self.messages) == list(range(1, self.last_seq + 1))

    async def drop(self) -> None:
        await _hang_up(self._reader, self.client)


async def _hang_up(reader: asyncio.Task[None] | None, client: WsClient | None) -> None:
    """Stop ``reader`` and close ``client``'s socket, which may be dead already."""
    if reader is not None:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    if client is not None:
        with contextlib.suppress(Exception):
            await client.close()
