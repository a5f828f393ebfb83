"""The running parts of one chatdesk process, started and stopped in a fixed order.

``Runtime`` is created by the app's lifespan (never at import time) and reached by routes
through ``request.app.state.runtime`` (see ``channels/deps.py``). Start: database (embedded
SQLite is upgraded) -> FAQ -> broker -> hub, writer, router tasks. Stop: close sockets
(1001) -> stop tasks -> flush the writer -> close broker -> dispose the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatdesk.accounts.secret import resolve_secret_key
from chatdesk.accounts.tokens import TokenSigner
from chatdesk.bot.reload import FaqService
from chatdesk.broker import create_broker, create_liveness
from chatdesk.broker.base import Broker
from chatdesk.broker.liveness import Liveness
from chatdesk.channels.connection import CLOSE_GOING_AWAY
from chatdesk.channels.hub import Hub
from chatdesk.clock import utcnow
from chatdesk.config import Settings
from chatdesk.conversations.model import WAITING_STATES
from chatdesk.conversations.service import ConversationService
from chatdesk.routing.dispatcher import Router, agent_key, visitor_key
from chatdesk.storage import db
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t
from chatdesk.storage.message_writer import MessageWriter

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    signer: TokenSigner
    faq: FaqService
    broker: Broker
    liveness: Liveness
    hub: Hub
    writer: MessageWriter
    conversations: ConversationService
    router: Router
    clock: Callable[[], datetime] = utcnow
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        secret = resolve_secret_key(settings)
        faq = FaqService(settings.resolved_faq_dir(), settings.bot_settings())
        await asyncio.to_thread(faq.load_initial)
        engine = db.create_engine(settings.database_url)
        if settings.is_sqlite:
            await db.upgrade(engine)
        sessions = db.session_factory(engine)
        broker = create_broker(settings.redis_url, namespace=settings.redis_namespace)
        liveness = create_liveness(settings.redis_url, namespace=settings.redis_namespace)
        hub = Hub(broker)
        writer = MessageWriter(sessions, clock=utcnow)
        conversations = ConversationService(
            sessions=sessions, writer=writer, hub=hub, faq=faq, settings=settings, clock=utcnow
        )
        router = Router(
            service=conversations, hub=hub, liveness=liveness, settings=settings, clock=utcnow
        )
        runtime = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            signer=TokenSigner(secret),
            faq=faq,
            broker=broker,
            liveness=liveness,
            hub=hub,
            writer=writer,
            conversations=conversations,
            router=router,
        )
        await broker.start()
        broker.on_gap(runtime._on_gap)
        hub_ready = asyncio.Event()
        runtime._spawn(hub.run(hub_ready), "hub")
        await hub_ready.wait()
        runtime._spawn(writer.run(), "message-writer")
        runtime._spawn(router.run(), "router")
        runtime._spawn(faq.run(), "faq-reload")
        runtime._spawn(runtime._refresh_liveness(), "liveness")
        return runtime

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.create_task(coroutine, name=name))

    async def _on_gap(self) -> None:
        # Redis may have come back empty: re-register this process's sockets now rather than
        # at the next heartbeat, so other processes' presence sweeps do not see them gone.
        await self._register_sockets()
        self.hub.resync_all()
        await self.hub.publish_resync()  # others missed what this process could not publish

    async def _register_sockets(self) -> None:
        """Mark every socket of this process alive in the liveness store (TTL = 3 heartbeats).

        One batched call: with ~19,000 idle visitors per process, a round trip per socket
        would be 19,000 Redis calls every heartbeat. The snapshot is taken without awaiting,
        so sockets opening meanwhile register themselves on connect; a socket that closed
        while the batch was being stored may have been stored again after its own removal,
        so it is removed once more (else it would look alive for a whole TTL).
        """
        snapshot: list[tuple[str, str, Collection[object], object]] = [
            (visitor_key(visitor_id), link.connection.id, links, link)
            for visitor_id, links in list(self.hub.visitors.items())
            for link in list(links)
        ]
        snapshot += [
            (agent_key(agent_id), agent_link.connection.id, agent_links, agent_link)
            for agent_id, agent_links in list(self.hub.agents.items())
            for agent_link in list(agent_links)
        ]
        await self.liveness.connected_many(
            [(key, conn_id) for key, conn_id, _, _ in snapshot],
            ttl_s=self.settings.liveness_ttl_s,
        )
        # The hub drops a link before its socket's own liveness removal, so a link gone
        # from its set closed (and was removed) during the call above, or is about to be.
        for key, conn_id, links, link in snapshot:
            if link not in links:
                await self.liveness.disconnected(key, conn_id=conn_id)

    async def _refresh_liveness(self) -> None:
        """Keep this process's sockets alive in the liveness store, every heartbeat."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                await self._register_sockets()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("liveness refresh failed; retrying next heartbeat")

    async def stop(self) -> None:
        for links in list(self.hub.visitors.values()):
            for link in list(links):
                link.connection.begin_close(CLOSE_GOING_AWAY, "server shutting down")
        for agent_links in list(self.hub.agents.values()):
            for agent_link in list(agent_links):
                agent_link.connection.begin_close(CLOSE_GOING_AWAY, "server shutting down")
        await self.writer.stop()
        for task in self.tasks:
            if task.get_name() != "message-writer":
                task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception:
                    log.exception("background task %s failed during shutdown", task.get_name())
        await self.router.finish_presence()
        await self.broker.close()
        await self.liveness.close()
        await self.engine.dispose()

    # -- small queries used by several transports --------------------------------------------

    def faq_language(self, hint: str | None) -> str:
        """The FAQ language for a hint like ``cs-CZ``; the default language otherwise."""
        languages = self.faq.engine.languages or tuple(self.settings.languages)
        if hint:
            code = hint.lower().split("-")[0].split("_")[0]
            if code in languages:
                return code
        return self.settings.default_language

    async def agent_name(self, agent_id: str) -> str:
        async with self.sessions() as session:
            row = await session.get(t.Agent, agent_id)
            return row.name if row is not None else ""

    async def queue_estimates(self) -> dict[str, tuple[int, int | None]]:
        now = self.clock()
        async with self.sessions() as session:
            waiting = await repo.conversations_in_states(session, WAITING_STATES)
            views, _ = await self.router.agent_views(session, now)
        return self.router.overview_estimates(waiting, views, await self.router.handle_time())
