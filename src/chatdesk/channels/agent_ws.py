"""``/ws/agent``: the agent console's websocket (frames in docs/protocol.md)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from sqlalchemy import update
from starlette.websockets import WebSocket

from chatdesk.accounts.service import AgentAccount
from chatdesk.channels import frames as f
from chatdesk.channels.auth import SESSION_COOKIE, authenticate_token
from chatdesk.channels.connection import Connection
from chatdesk.channels.hub import AgentLink
from chatdesk.channels.ratelimit import (
    AGENT_BURST,
    AGENT_FRAMES_PER_S,
    TYPING_MIN_INTERVAL_S,
    TokenBucket,
)
from chatdesk.channels.ws_common import opening_frame, refuse_first_frame, serve_frames
from chatdesk.conversations.model import State
from chatdesk.errors import (
    BadRequestError,
    ChatdeskError,
    ForbiddenError,
    IllegalStateError,
    UnauthorizedError,
)
from chatdesk.routing.dispatcher import agent_key
from chatdesk.runtime import Runtime
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    raw = await opening_frame(websocket, runtime.settings)
    if raw is None:
        return
    try:
        auth = f.parse_agent_frame(raw)
        if not isinstance(auth, f.Auth):
            raise UnauthorizedError("the first frame must be auth")
        token = auth.token or websocket.cookies.get(SESSION_COOKIE)
        if not token:
            raise UnauthorizedError("no token and no session cookie")
        agent = await authenticate_token(runtime, token)
    except ChatdeskError as exc:
        await refuse_first_frame(websocket, exc)
        return
    await AgentSession(runtime, websocket, agent).run(auth)


class AgentSession:
    def __init__(self, runtime: Runtime, websocket: WebSocket, agent: AgentAccount) -> None:
        self.runtime = runtime
        self.service = runtime.conversations
        self.router = runtime.router
        self.agent = agent
        self.connection = Connection(websocket, history=self.service.history, include_notes=True)
        self.link = AgentLink(self.connection, agent.id, agent.role)
        self.link.on_assigned = self.on_assigned
        self.last_typing: dict[str, float] = {}

    async def run(self, auth: f.Auth) -> None:
        runtime = self.runtime
        runtime.hub.add_agent(self.link)
        await runtime.liveness.connected(
            agent_key(self.agent.id),
            conn_id=self.connection.id,
            ttl_s=runtime.settings.liveness_ttl_s,
        )
        await self.router.agent_connected(self.agent.id)
        resume = auth.resume or {}
        self.connection.run_in_order(lambda: self._welcome(resume))
        bucket = (
            TokenBucket(AGENT_FRAMES_PER_S, AGENT_BURST)
            if runtime.settings.rate_limits == "on"
            else None
        )
        try:
            await serve_frames(
                self.connection, parse=f.parse_agent_frame, handle=self.handle, bucket=bucket
            )
        finally:
            runtime.hub.remove_agent(self.link)
            await runtime.liveness.disconnected(
                agent_key(self.agent.id), conn_id=self.connection.id
            )
            await self.router.agent_disconnected(self.agent.id)

    async def _welcome(self, resume: dict[str, int]) -> None:
        async with self.service.sessions() as session:
            row = await session.get(t.Agent, self.agent.id)
            assert row is not None
            owned = await repo.agent_conversations(session, self.agent.id)
            offered = [
                c
                for c in await repo.conversations_in_states(session, (State.OFFERED,))
                if c.offered_to == self.agent.id
            ]
            conversations = []
            for conversation in owned:
                after = resume.get(conversation.id, 0)
                messages = await repo.messages_after(
                    session, conversation.id, after, include_notes=True
                )
                conversations.append(
                    {
                        "id": conversation.id,
                        "conversation_id": conversation.id,
                        "state": conversation.state.value,
                        "lang": conversation.lang,
                        "department": conversation.department,
                        "visitor": await repo.visitor_info(session, conversation.visitor_id),
                        "messages": [m.frame(for_agent=True) for m in messages],
                    }
                )
                self.connection.follow(
                    conversation.id, messages[-1].seq if messages else max(after, 0)
                )
        await self.connection.write(
            {
                "type": "welcome",
                "agent": {
                    "id": row.id,
                    "name": row.name,
                    "role": row.role,
                    "status": row.status,
                    "max_chats": row.max_chats,
                    "auto_accept": row.auto_accept,
                },
                "conversations": conversations,
            }
        )
        for conversation in offered:
            await self.connection.write(
                {
                    "type": "offer",
                    "conversation_id": conversation.id,
                    "visitor": {"id": conversation.visitor_id, "page_url": conversation.page_url},
                    "lang": conversation.lang,
                    "preview": "",
                    "expires_in": max(
                        0.0,
                        (conversation.offer_expires_at - self.runtime.clock()).total_seconds()
                        if conversation.offer_expires_at
                        else 0.0,
                    ),
                }
            )
        waiting, oldest = self.runtime.hub.queue_waiting
        self.link.queue_snapshot = (waiting, oldest)
        await self.connection.write({"type": "queue", "waiting": waiting, "oldest_wait_s": oldest})

    async def on_assigned(self, conversation_id: str) -> None:
        """This agent got a conversation: send its whole history once, then follow it.

        A supervisor who was watching it (and so already follows it) takes it over: they
        still get ``assigned``, which tells the console the chat is now theirs."""
        if conversation_id in self.link.watching:
            self.link.watching.discard(conversation_id)
        elif conversation_id in self.connection.last_seq:
            return
        async with self.service.sessions() as session:
            conversation = await repo.get_conversation(session, conversation_id)
            if conversation is None or conversation.agent_id != self.agent.id:
                return
            messages = await repo.messages_after(session, conversation_id, 0, include_notes=True)
            visitor = await repo.visitor_info(session, conversation.visitor_id)
        await self.connection.write(
            {
                "type": "assigned",
                "conversation_id": conversation_id,
                "lang": conversation.lang,
                "department": conversation.department,
                "visitor": visitor,
                "messages": [m.frame(for_agent=True) for m in messages],
            }
        )
        self.connection.follow(conversation_id, messages[-1].seq if messages else 0)

    async def handle(self, frame: Any, _raw: str) -> None:
        agent = self.agent
        router = self.router
        if isinstance(frame, f.SetStatus):
            await self._set_status(frame)
        elif isinstance(frame, f.Accept):
            await router.accept(frame.conversation_id, agent_id=agent.id, agent_name=agent.name)
        elif isinstance(frame, f.Decline):
            await router.decline(frame.conversation_id, agent_id=agent.id)
        elif isinstance(frame, f.AgentMessage):
            stored, created = await self.service.agent_message(
                agent_id=agent.id,
                agent_name=agent.name,
                conversation_id=frame.conversation_id,
                client_id=frame.client_id,
                text=frame.text,
            )
            self.connection.deliver(stored, ack=True, resent=not created)
        elif isinstance(frame, f.Note):
            stored = await self.service.note(
                agent_id=agent.id,
                agent_name=agent.name,
                conversation_id=frame.conversation_id,
                text=frame.text,
            )
            self.connection.deliver(stored, ack=True)
        elif isinstance(frame, f.AgentTyping):
            await self._typing(frame)
        elif isinstance(frame, f.Transfer):
            await router.transfer(
                frame.conversation_id,
                agent=agent,
                to_agent_id=frame.to_agent_id,
                to_department=frame.to_department,
                note=frame.note,
            )
        elif isinstance(frame, f.Escalate):
            await router.escalate(frame.conversation_id, agent=agent)
        elif isinstance(frame, f.Watch):
            await self._watch(frame.conversation_id)
        elif isinstance(frame, f.Takeover):
            await router.takeover(frame.conversation_id, supervisor=agent)
        elif isinstance(frame, f.Handback):
            await router.handback(frame.conversation_id, agent=agent)
        elif isinstance(frame, f.AgentClose):
            await router.close(frame.conversation_id, agent=agent)
        elif isinstance(frame, f.Auth):
            raise BadRequestError("auth was already received")

    async def _set_status(self, frame: f.SetStatus) -> None:
        values: dict[str, Any] = {"status": frame.status}
        if frame.auto_accept is not None:
            values["auto_accept"] = frame.auto_accept
        if frame.status == "online":
            values["expired_offers_in_row"] = 0
        async with self.service.sessions() as session, session.begin():
            await session.execute(
                update(t.Agent).where(t.Agent.id == self.agent.id).values(**values)
            )
        await self.runtime.hub.publish_frame(
            {
                "type": "status",
                "status": frame.status,
                "reason": "chosen",
                "auto_accept": frame.auto_accept,
            },
            agent_id=self.agent.id,
        )
        self.router.wake()
        await self.runtime.hub.publish_route()

    async def _typing(self, frame: f.AgentTyping) -> None:
        now = time.monotonic()
        if (
            frame.on
            and now - self.last_typing.get(frame.conversation_id, 0) < TYPING_MIN_INTERVAL_S
        ):
            return
        # an `off` re-arms at once: the next `on` is shown even if it follows quickly
        self.last_typing[frame.conversation_id] = now if frame.on else 0.0
        conversation = await self.service.get(frame.conversation_id)
        if conversation.agent_id != self.agent.id:
            raise IllegalStateError("you are not assigned to this conversation")
        await self.runtime.hub.publish_frame(
            {
                "type": "typing",
                "conversation_id": conversation.id,
                "author": "agent",
                "author_name": self.agent.name,
                "on": frame.on,
            },
            visitor_id=conversation.visitor_id,
            conversation_id=conversation.id,
            watchers_of=conversation.id,
        )

    async def _watch(self, conversation_id: str) -> None:
        if self.agent.role not in ("supervisor", "admin"):
            raise ForbiddenError("only supervisors can watch conversations")
        conversation = await self.service.get(conversation_id)
        self.link.watching.add(conversation.id)

        async def snapshot() -> None:
            messages = await self.service.history(conversation.id, 0, True)
            await self.connection.write(
                {
                    "type": "watching",
                    "conversation_id": conversation.id,
                    "state": conversation.state.value,
                    "messages": [m.frame(for_agent=True) for m in messages],
                }
            )
            self.connection.follow(conversation.id, messages[-1].seq if messages else 0)

        self.connection.run_in_order(snapshot)
