"""``/ws/visitor``: the widget's websocket (frames in docs/protocol.md)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from starlette.websockets import WebSocket

from chatdesk.accounts.tokens import InvalidTokenError
from chatdesk.channels import frames as f
from chatdesk.channels.connection import Connection
from chatdesk.channels.hub import VisitorLink
from chatdesk.channels.ratelimit import (
    TYPING_MIN_INTERVAL_S,
    TokenBucket,
)
from chatdesk.channels.ws_common import opening_frame, refuse_first_frame, serve_frames
from chatdesk.conversations.model import WAITING_STATES, State
from chatdesk.errors import BadRequestError, ChatdeskError, IllegalStateError, UnauthorizedError
from chatdesk.routing.dispatcher import visitor_key
from chatdesk.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/ws/visitor")
async def visitor_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    raw = await opening_frame(websocket, runtime.settings)
    if raw is None:
        return
    try:
        hello = f.parse_visitor_frame(raw)
        if not isinstance(hello, f.Hello):
            raise UnauthorizedError("the first frame must be hello")
    except ChatdeskError as exc:
        await refuse_first_frame(websocket, exc)
        return
    await VisitorSession(runtime, websocket).run(hello)


class VisitorSession:
    def __init__(self, runtime: Runtime, websocket: WebSocket) -> None:
        self.runtime = runtime
        self.service = runtime.conversations
        self.websocket = websocket
        self.connection = Connection(websocket, history=self.service.history, include_notes=False)
        self.link: VisitorLink | None = None
        self.lang = runtime.settings.default_language
        self.department: str | None = None
        self.page_url: str | None = None
        self.last_typing = 0.0

    def _visitor_from_token(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self.runtime.signer.verify(token, "visitor", now=self.runtime.clock()).subject
        except InvalidTokenError:
            return None  # an invalid or expired token starts a new visitor

    async def run(self, hello: f.Hello) -> None:
        runtime = self.runtime
        self.lang = runtime.faq_language(hello.lang)
        self.department = hello.department
        self.page_url = hello.page_url
        visitor_id, conversation = await self.service.open_visitor(
            visitor_id=self._visitor_from_token(hello.token),
            lang=self.lang,
            page_url=hello.page_url,
            department=hello.department,
        )
        link = VisitorLink(self.connection, visitor_id, conversation.id, self.lang)
        self.link = link
        runtime.hub.add_visitor(link)
        await runtime.liveness.connected(
            visitor_key(visitor_id),
            conn_id=self.connection.id,
            ttl_s=runtime.settings.liveness_ttl_s,
        )
        await runtime.router.visitor_connected(visitor_id)
        after_seq = hello.after_seq if hello.conversation_id == conversation.id else None
        self.connection.run_in_order(lambda: self._welcome(after_seq))
        try:
            bucket = (
                TokenBucket(
                    runtime.settings.visitor_rate_per_s, runtime.settings.visitor_rate_burst
                )
                if runtime.settings.rate_limits == "on"
                else None
            )
            await serve_frames(
                self.connection, parse=f.parse_visitor_frame, handle=self.handle, bucket=bucket
            )
        finally:
            runtime.hub.remove_visitor(link)
            await runtime.liveness.disconnected(visitor_key(visitor_id), conn_id=self.connection.id)
            await runtime.router.visitor_disconnected(visitor_id)

    async def _welcome(self, after_seq: int | None) -> None:
        assert self.link is not None
        runtime = self.runtime
        conversation = await self.service.get(self.link.conversation_id)
        messages = await self.service.history(conversation.id, after_seq or 0)
        token, _ = runtime.signer.issue(
            "visitor",
            self.link.visitor_id,
            now=runtime.clock(),
            ttl_s=runtime.settings.visitor_token_ttl_s,
        )
        frame: dict[str, Any] = {
            "type": "welcome",
            "token": token,
            "visitor_id": self.link.visitor_id,
            "conversation_id": conversation.id,
            "state": conversation.state.value,
            "lang": self.lang,
            "messages": [message.frame() for message in messages],
            "online": await runtime.router.is_online(),
        }
        if conversation.state in WAITING_STATES:
            estimates = await runtime.queue_estimates()
            position, eta = estimates.get(conversation.id, (1, None))
            frame["queue"] = {"position": position, "eta_seconds": eta}
            self.link.position, self.link.eta = position, eta
        if conversation.state == State.ASSIGNED and conversation.agent_id:
            frame["agent_name"] = await runtime.agent_name(conversation.agent_id)
        await self.connection.write(frame)
        last = messages[-1].seq if messages else min(after_seq or 0, conversation.last_seq)
        self.connection.follow(conversation.id, last)

    async def _current(self) -> Any:
        assert self.link is not None
        return await self.service.get(self.link.conversation_id)

    async def handle(self, frame: Any, _raw: str) -> None:
        assert self.link is not None
        if isinstance(frame, f.VisitorMessage):
            await self._message(frame)
        elif isinstance(frame, f.Typing):
            await self._typing(frame)
        elif isinstance(frame, f.Handoff):
            conversation = await self._current()
            if conversation.state == State.CLOSED:
                raise IllegalStateError("the conversation is closed")
            await self.runtime.router.handoff(
                conversation.id, actor=f"visitor:{self.link.visitor_id}"
            )
        elif isinstance(frame, f.Choose):
            await self.service.choose(conversation=await self._current(), entry_id=frame.entry_id)
        elif isinstance(frame, f.Feedback):
            await self.service.feedback(
                conversation=await self._current(),
                message_id=frame.message_id,
                helpful=frame.helpful,
            )
        elif isinstance(frame, f.LeaveMessage):
            await self.service.leave_message(
                conversation=await self._current(), email=frame.email, text=frame.text
            )
        elif isinstance(frame, f.Rating):
            await self.service.rate(
                conversation=await self._current(), score=frame.score, comment=frame.comment
            )
        elif isinstance(frame, f.Close):
            conversation = await self._current()
            await self.service.close(conversation.id, actor=f"visitor:{self.link.visitor_id}")
        elif isinstance(frame, f.Hello):
            raise BadRequestError("hello was already received")

    async def _message(self, frame: f.VisitorMessage) -> None:
        assert self.link is not None
        self.service.check_text(frame.text)
        try:
            appended = await self.service.visitor_message(
                visitor_id=self.link.visitor_id,
                conversation_id=self.link.conversation_id,
                client_id=frame.client_id,
                text=frame.text,
            )
        except IllegalStateError:  # closed: the visitor's next message starts a new one
            conversation = await self.service.start_new_conversation(
                visitor_id=self.link.visitor_id,
                lang=self.lang,
                department=self.department,
                page_url=self.page_url,
            )
            self.link.conversation_id = conversation.id
            self.connection.follow(conversation.id, 0)
            appended = await self.service.visitor_message(
                visitor_id=self.link.visitor_id,
                conversation_id=conversation.id,
                client_id=frame.client_id,
                text=frame.text,
            )
        self.connection.deliver(appended.message, ack=True, resent=not appended.created)
        if appended.created and appended.conversation.state == State.BOT:
            await self.service.bot_turn(
                conversation=appended.conversation, text=frame.text, lang_hint=self.lang
            )

    async def _typing(self, frame: f.Typing) -> None:
        assert self.link is not None
        now = time.monotonic()
        if frame.on and now - self.last_typing < TYPING_MIN_INTERVAL_S:
            return
        # an `off` re-arms at once: the next `on` is shown even if it follows quickly
        self.last_typing = now if frame.on else 0.0
        conversation = await self._current()
        if conversation.agent_id is None:
            return
        await self.runtime.hub.publish_frame(
            {
                "type": "typing",
                "conversation_id": conversation.id,
                "author": "visitor",
                "on": frame.on,
            },
            agent_id=conversation.agent_id,
            watchers_of=conversation.id,
        )
