"""Local fan-out: which websocket connections of THIS process follow what.

Every process subscribes once to the ``chat`` topic; the hub turns each notification into
deliveries to its own connections (visitors by visitor id, agents by agent id, supervisors
watching a conversation). Fan-out across processes is the broker's job; ordering and
exactly-once per connection are the connection's (see ``connection.py``). On a broker gap
every connection catches up from the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatdesk.broker.base import Broker
from chatdesk.channels.connection import CLOSE_POLICY, Connection
from chatdesk.conversations.model import Author
from chatdesk.conversations.values import StoredMessage

log = logging.getLogger(__name__)

TOPIC = "chat"
HUB_QUEUE = 50_000  # one subscription per process: sized for bursts of thousands of messages/s


@dataclass(eq=False)
class VisitorLink:
    """A visitor's connection and the conversation it currently shows."""

    connection: Connection
    visitor_id: str
    conversation_id: str
    lang: str
    position: int | None = None
    seen_at: datetime | None = None  # newest message of this conversation handed to the tab
    eta: int | None = None


@dataclass(eq=False)
class AgentLink:
    connection: Connection
    agent_id: str
    role: str
    watching: set[str] = field(default_factory=set)
    queue_snapshot: tuple[int, int] | None = None
    on_assigned: Callable[[str], Awaitable[None]] | None = None


RouteHandler = Callable[[], None]


class Hub:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self.visitors: dict[str, set[VisitorLink]] = defaultdict(set)
        self.agents: dict[str, set[AgentLink]] = defaultdict(set)
        self.on_route: RouteHandler | None = None
        self.queue_waiting: tuple[int, int] = (0, 0)

    # -- registration --------------------------------------------------------------------

    def add_visitor(self, link: VisitorLink) -> None:
        self.visitors[link.visitor_id].add(link)

    def remove_visitor(self, link: VisitorLink) -> None:
        links = self.visitors.get(link.visitor_id)
        if links is not None:
            links.discard(link)
            if not links:
                del self.visitors[link.visitor_id]

    def add_agent(self, link: AgentLink) -> None:
        self.agents[link.agent_id].add(link)

    def remove_agent(self, link: AgentLink) -> None:
        links = self.agents.get(link.agent_id)
        if links is not None:
            links.discard(link)
            if not links:
                del self.agents[link.agent_id]

    def agent_connected_here(self, agent_id: str) -> bool:
        return bool(self.agents.get(agent_id))

    def visitor_connected_here(self, visitor_id: str) -> bool:
        return bool(self.visitors.get(visitor_id))

    def connection_count(self) -> int:
        return sum(len(links) for links in self.visitors.values()) + sum(
            len(links) for links in self.agents.values()
        )

    # -- publishing (any process) --------------------------------------------------------

    async def publish_message(
        self, message: StoredMessage, *, visitor_id: str, agent_id: str | None
    ) -> None:
        await self._broker.publish(
            TOPIC,
            {
                "k": "msg",
                "v": visitor_id,
                "a": agent_id,
                "m": _message_payload(message),
            },
        )

    async def publish_frame(
        self,
        frame: dict[str, Any],
        *,
        visitor_id: str | None = None,
        conversation_id: str | None = None,
        agent_id: str | None = None,
        watchers_of: str | None = None,
        supervisors: bool = False,
    ) -> None:
        """Send ``frame`` to a visitor's connections (showing ``conversation_id``), an
        agent's connections, the supervisors watching a conversation, or all supervisors."""
        await self._broker.publish(
            TOPIC,
            {
                "k": "to",
                "v": visitor_id,
                "c": conversation_id,
                "a": agent_id,
                "w": watchers_of,
                "s": supervisors,
                "f": frame,
            },
        )

    async def publish_assigned(self, conversation_id: str, agent_id: str) -> None:
        await self._broker.publish(TOPIC, {"k": "assigned", "c": conversation_id, "a": agent_id})

    async def publish_unassigned(self, conversation_id: str, agent_id: str) -> None:
        await self._broker.publish(TOPIC, {"k": "unassigned", "c": conversation_id, "a": agent_id})

    async def publish_disconnect(self, agent_id: str) -> None:
        """Close every console of a disabled agent, in whichever process it is."""
        await self._broker.publish(TOPIC, {"k": "kick", "a": agent_id})

    async def publish_route(self) -> None:
        await self._broker.publish(TOPIC, {"k": "route"})

    async def publish_resync(self) -> None:
        """Ask every process to catch its sockets up from the database.

        Sent by a process that just reconnected to Redis: what it published while it was
        cut off was dropped, and processes that reconnected earlier have already caught up.
        """
        await self._broker.publish(TOPIC, {"k": "resync"})

    async def publish_queue(
        self, positions: dict[str, tuple[int, int | None]], *, waiting: int, oldest_s: int
    ) -> None:
        await self._broker.publish(
            TOPIC,
            {
                "k": "queue",
                "p": {cid: [pos, eta] for cid, (pos, eta) in positions.items()},
                "n": waiting,
                "o": oldest_s,
            },
        )

    # -- receiving -----------------------------------------------------------------------

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Consume this process's subscription until cancelled (owned by the runtime)."""
        async with self._broker.subscribe(TOPIC, max_queue=HUB_QUEUE) as subscription:
            if ready is not None:
                ready.set()
            async for notification in subscription:
                try:
                    if notification.is_gap:
                        self.resync_all()
                    else:
                        self.dispatch(notification.payload)
                except Exception:
                    log.exception("hub failed on a notification; continuing")

    def resync_all(self) -> None:
        """After a broker gap: every connection re-reads what it follows from the database."""
        for visitor_links in self.visitors.values():
            for link in visitor_links:
                link.connection.resync(link.conversation_id)
        for agent_links in self.agents.values():
            for agent_link in agent_links:
                for conversation_id in list(agent_link.connection.last_seq):
                    agent_link.connection.resync(conversation_id)
        if self.on_route is not None:
            self.on_route()

    def dispatch(self, payload: dict[str, Any]) -> None:
        kind = payload.get("k")
        if kind == "msg":
            self._dispatch_message(payload)
        elif kind == "to":
            self._dispatch_frame(payload)
        elif kind == "assigned":
            for link in list(self.agents.get(payload["a"], ())):
                if link.on_assigned is not None:
                    handler = link.on_assigned
                    conversation_id = payload["c"]
                    link.connection.run_in_order(functools.partial(handler, conversation_id))
        elif kind == "unassigned":
            for link in self.agents.get(payload["a"], ()):
                if payload["c"] not in link.watching:
                    link.connection.run_in_order(
                        functools.partial(_unfollow, link.connection, payload["c"])
                    )
        elif kind == "kick":
            for link in list(self.agents.get(payload["a"], ())):
                link.connection.run_in_order(functools.partial(_kick, link.connection))
        elif kind == "route":
            if self.on_route is not None:
                self.on_route()
        elif kind == "resync":
            self.resync_all()
        elif kind == "queue":
            self._dispatch_queue(payload)

    def _dispatch_message(self, payload: dict[str, Any]) -> None:
        message = _message_from_payload(payload["m"])
        if message.author != Author.NOTE:
            for link in list(self.visitors.get(payload["v"], ())):
                if link.conversation_id != message.conversation_id:
                    if link.seen_at is not None and message.created_at < link.seen_at:
                        continue  # a late message of a conversation this tab has left
                    # Another tab started a new conversation: follow it from its start.
                    link.conversation_id = message.conversation_id
                    link.connection.follow(message.conversation_id, 0)
                link.seen_at = max(link.seen_at or message.created_at, message.created_at)
                link.connection.deliver(message)
        for agent_links in self.agents.values():
            for agent_link in agent_links:
                if (
                    agent_link.agent_id == payload["a"]
                    or message.conversation_id in agent_link.watching
                ):
                    agent_link.connection.deliver(message)

    def _dispatch_frame(self, payload: dict[str, Any]) -> None:
        frame = payload["f"]
        if payload.get("v"):
            for link in self.visitors.get(payload["v"], ()):
                if payload.get("c") in (None, link.conversation_id):
                    link.connection.send(frame)
        if payload.get("a"):
            for agent_link in self.agents.get(payload["a"], ()):
                agent_link.connection.send(frame)
        watched = payload.get("w")
        supervisors = payload.get("s")
        if watched or supervisors:
            for agent_links in self.agents.values():
                for agent_link in agent_links:
                    if agent_link.agent_id == payload.get("a"):
                        continue
                    if (watched and watched in agent_link.watching) or (
                        supervisors and agent_link.role in ("supervisor", "admin")
                    ):
                        agent_link.connection.send(frame)

    def _dispatch_queue(self, payload: dict[str, Any]) -> None:
        positions: dict[str, list[Any]] = payload["p"]
        for visitor_links in self.visitors.values():
            for link in visitor_links:
                entry = positions.get(link.conversation_id)
                if entry is None:
                    link.position = None
                    continue
                position, eta = entry
                if (position, eta) != (link.position, link.eta):
                    link.position, link.eta = position, eta
                    link.connection.send(
                        {"type": "queued", "position": position, "eta_seconds": eta}
                    )
        snapshot = (int(payload["n"]), int(payload["o"]))
        self.queue_waiting = snapshot
        for agent_links in self.agents.values():
            for agent_link in agent_links:
                if agent_link.queue_snapshot != snapshot:
                    agent_link.queue_snapshot = snapshot
                    agent_link.connection.send(
                        {"type": "queue", "waiting": snapshot[0], "oldest_wait_s": snapshot[1]}
                    )


async def _kick(connection: Connection) -> None:
    await connection.write({"type": "error", "code": "unauthorized", "message": "account disabled"})
    connection.begin_close(CLOSE_POLICY, "account disabled")


async def _unfollow(connection: Connection, conversation_id: str) -> None:
    connection.unfollow(conversation_id)


def _message_payload(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "c": message.conversation_id,
        "seq": message.seq,
        "au": message.author.value,
        "s": message.sender,
        "n": message.author_name,
        "t": message.text,
        "ci": message.client_id,
        "ts": message.created_at.isoformat(),
        "b": message.bot,
    }


def _message_from_payload(data: dict[str, Any]) -> StoredMessage:
    return StoredMessage(
        id=data["id"],
        conversation_id=data["c"],
        seq=int(data["seq"]),
        author=Author(data["au"]),
        sender=data["s"],
        author_name=data["n"],
        text=data["t"],
        client_id=data["ci"],
        created_at=datetime.fromisoformat(data["ts"]),
        bot=data["b"],
    )
