"""Conversation use cases: load -> decide (pure model) -> store -> publish -> acknowledge.

The visitor side (hello, messages, the bot's turn, hand-off, feedback, leaving a message,
rating, closing) and the agent side's conversation actions (messages, notes, close,
hand back) live here; routing (offers, accept, transfer, presence) is in
``routing/dispatcher.py``. Storage is the truth: every acknowledgement follows the commit,
and the broker only tells other processes what was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatdesk.bot.engine import BotReply
from chatdesk.bot.reload import FaqService
from chatdesk.channels.hub import Hub
from chatdesk.clock import new_id
from chatdesk.config import Settings
from chatdesk.conversations.model import (
    OPEN_STATES,
    Action,
    Author,
    State,
    allowed_from,
    transition,
)
from chatdesk.conversations.texts import system_text
from chatdesk.conversations.values import ConversationView, NewMessage, StoredMessage
from chatdesk.errors import BadRequestError, IllegalStateError, NotFoundError, TooLargeError
from chatdesk.storage import db
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t
from chatdesk.storage.batch import Appended
from chatdesk.storage.message_writer import MessageWriter


class BotContext(Protocol):
    """What the bot needs to know of a conversation (a view or a storage snapshot)."""

    @property
    def id(self) -> str: ...
    @property
    def visitor_id(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def bot_failures(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Transitioned:
    """The result of a stored transition: the conversation after it and its system message."""

    before: ConversationView
    after: ConversationView
    system_message: StoredMessage | None


class ConversationService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        writer: MessageWriter,
        hub: Hub,
        faq: FaqService,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.writer = writer
        self.hub = hub
        self.faq = faq
        self.settings = settings
        self.clock = clock
        self.request_handoff: Callable[..., Any] | None = None  # set by the router

    # -- shared ----------------------------------------------------------------------------

    def check_text(self, text: str) -> str:
        stripped = text.strip()
        if not stripped:
            raise BadRequestError("text must not be empty")
        if len(text) > self.settings.max_message_chars:
            raise TooLargeError(f"text is longer than {self.settings.max_message_chars} characters")
        return stripped

    async def get(self, conversation_id: str) -> ConversationView:
        async with self.sessions() as session:
            conversation = await repo.get_conversation(session, conversation_id)
        if conversation is None:
            raise NotFoundError("no such conversation")
        return conversation

    async def history(
        self, conversation_id: str, after_seq: int = 0, include_notes: bool = False
    ) -> list[StoredMessage]:
        async with self.sessions() as session:
            return await repo.messages_after(
                session, conversation_id, after_seq, include_notes=include_notes
            )

    async def apply(
        self,
        conversation_id: str,
        action: Action,
        *,
        actor: str,
        values: dict[str, Any] | None = None,
        values_from: Callable[[ConversationView], dict[str, Any]] | None = None,
        system: tuple[str, dict[str, str]] | None = None,
        event_data: dict[str, Any] | None = None,
        check: Callable[[ConversationView], None] | None = None,
        session: AsyncSession | None = None,
    ) -> Transitioned:
        """Apply ``action`` in one transaction: lock, check, update, event, system message.

        Raises ``IllegalStateError`` (nothing changed) when the model refuses the action in
        the conversation's current state or ``check`` refuses it. Without ``session`` it is
        a transaction of its own (re-run on a lost deadlock, ``db.run_transaction``); with
        one, it is part of the caller's unit of work, which takes the conversation's lock
        after any agent or visitor row (the lock order in ``storage/db.py``).
        """
        if session is None:
            return await db.run_transaction(
                self.sessions,
                lambda own: self.apply(
                    conversation_id,
                    action,
                    actor=actor,
                    values=values,
                    values_from=values_from,
                    system=system,
                    event_data=event_data,
                    check=check,
                    session=own,
                ),
            )
        now = self.clock()
        before = await repo.lock_conversation(session, conversation_id)
        if before is None:
            raise NotFoundError("no such conversation")
        target = transition(before.state, action)
        if check is not None:
            check(before)
        updates: dict[str, Any] = {"state": target, "last_activity_at": now, **(values or {})}
        if values_from is not None:
            updates.update(values_from(before))
        if target == State.CLOSED:
            updates.setdefault("closed_at", now)
            updates.setdefault("offered_to", None)
            updates.setdefault("offer_expires_at", None)
        # Compare-and-set on what the decision was based on: the state and who held it.
        unchanged = {
            "state": before.state.value,
            "agent_id": before.agent_id,
            "offered_to": before.offered_to,
        }
        changed = await repo.update_conversation(
            session,
            conversation_id,
            from_states=allowed_from(action),
            unchanged=unchanged,
            **updates,
        )
        if not changed:
            raise IllegalStateError(f"conversation changed before {action.value}")
        await repo.record_event(
            session,
            conversation_id,
            _event_name(action),
            now=now,
            actor=actor,
            data={"from": before.state.value, "to": target.value, **(event_data or {})},
        )
        message = None
        if system is not None:
            key, params = system
            stored = await repo.append_messages(
                session,
                [
                    NewMessage(
                        conversation_id=conversation_id,
                        author=Author.SYSTEM,
                        sender="system",
                        author_name="",
                        text=system_text(key, before.lang, **params),
                    )
                ],
                now=now,
            )
            message = stored[0][0]
        after = await repo.get_conversation(session, conversation_id)
        assert after is not None
        return Transitioned(before=before, after=after, system_message=message)

    async def announce(self, result: Transitioned) -> None:
        """Publish a transition's system message to everyone following the conversation."""
        if result.system_message is not None:
            await self.hub.publish_message(
                result.system_message,
                visitor_id=result.after.visitor_id,
                agent_id=result.after.agent_id or result.before.agent_id,
            )

    # -- visitor: session ------------------------------------------------------------------

    async def open_visitor(
        self,
        *,
        visitor_id: str | None,
        lang: str,
        page_url: str | None,
        department: str | None,
    ) -> tuple[str, ConversationView]:
        """The visitor (new when ``visitor_id`` is unknown) and their current conversation.

        The visitor's row is written first: it serialises two tabs opening at once (the
        second sees the conversation the first created) and keeps the lock order.
        """
        now = self.clock()

        async def work(session: AsyncSession) -> tuple[str, ConversationView]:
            known = visitor_id
            if known is None or not await repo.visitor_exists(session, known):
                known = await repo.create_visitor(session, now=now, lang=lang, page_url=page_url)
            else:
                await repo.touch_visitor(session, known, now=now, lang=lang, page_url=page_url)
            conversation = await repo.latest_conversation(session, known)
            if conversation is None:
                conversation = await repo.create_conversation(
                    session,
                    visitor_id=known,
                    lang=lang,
                    department=department,
                    page_url=page_url,
                    now=now,
                )
            elif conversation.visitor_gone_at is not None:
                await repo.update_conversation(session, conversation.id, visitor_gone_at=None)
            return known, conversation

        return await db.run_transaction(self.sessions, work)

    async def start_new_conversation(
        self, *, visitor_id: str, lang: str, department: str | None, page_url: str | None
    ) -> ConversationView:
        """The visitor's open conversation (another tab may have started one), else a new one.

        The visitor's row is written first, as in ``open_visitor``: two tabs starting at
        once take it in turn, so the second reads the conversation the first created
        instead of creating another (the lock order in ``storage/db.py``).
        """
        now = self.clock()

        async def work(session: AsyncSession) -> ConversationView:
            await repo.touch_visitor(session, visitor_id, now=now, lang=lang, page_url=page_url)
            latest = await repo.latest_conversation(session, visitor_id)
            if latest is not None and latest.state != State.CLOSED:
                return latest
            return await repo.create_conversation(
                session,
                visitor_id=visitor_id,
                lang=lang,
                department=department,
                page_url=page_url,
                now=now,
            )

        return await db.run_transaction(self.sessions, work)

    # -- visitor: messages and the bot -----------------------------------------------------

    async def visitor_message(
        self, *, visitor_id: str, conversation_id: str, client_id: str, text: str
    ) -> Appended:
        """Store the visitor's message in the open ``conversation_id`` (one transaction,
        no read before it) and publish it if new. A re-sent ``client_id`` gets the stored
        message back; a closed conversation raises ``IllegalStateError``."""
        text = self.check_text(text)
        appended = await self.writer.store(
            NewMessage(
                conversation_id=conversation_id,
                author=Author.VISITOR,
                sender=f"visitor:{visitor_id}",
                author_name="",
                text=text,
                client_id=client_id,
                expect_states=OPEN_STATES,
            )
        )
        if appended.created:
            await self.hub.publish_message(
                appended.message, visitor_id=visitor_id, agent_id=appended.conversation.agent_id
            )
        return appended

    async def bot_turn(self, *, conversation: BotContext, text: str, lang_hint: str | None) -> None:
        """The bot answers a visitor message of a conversation it owns."""
        reply = await self.faq.ask(
            text,
            lang_hint=lang_hint,
            conversation_lang=conversation.lang,
            failures_in_row=conversation.bot_failures,
        )
        await self._store_bot_reply(conversation, reply, question=text)

    async def choose(self, *, conversation: ConversationView, entry_id: str) -> None:
        """A suggestion was clicked: answer with that entry in the conversation's language."""
        engine = self.faq.engine
        entry = engine.faq.get(entry_id)
        if entry is None:
            raise NotFoundError("no such FAQ entry")
        if conversation.state != State.BOT:
            raise IllegalStateError("the bot is not answering this conversation")
        lang = conversation.lang if conversation.lang in entry.answer else next(iter(entry.answer))
        reply = BotReply(
            outcome="handoff" if entry.handoff else "answer",
            lang=lang,
            entry_id=entry.id,
            answer=entry.answer[lang],
            score=1.0,
            suggestions=(),
            reason="chosen",
            candidates=(),
        )
        await self._store_bot_reply(conversation, reply, question=None)

    async def _store_bot_reply(
        self, conversation: BotContext, reply: BotReply, *, question: str | None
    ) -> None:
        if reply.outcome == "answer" and reply.answer is not None:
            text = reply.answer
        elif reply.outcome == "suggest" and reply.suggestions:
            text = system_text("suggest_intro", reply.lang)
        elif reply.outcome == "handoff":
            text = reply.answer or system_text("handoff", reply.lang)
        else:
            text = system_text("no_match", reply.lang)
        bot_meta: dict[str, Any] = {
            "entry_id": reply.entry_id,
            "outcome": reply.outcome,
            "score": round(reply.score, 4),
            "reason": reply.reason,
            "lang": reply.lang,
        }
        if reply.suggestions:
            bot_meta["suggestions"] = [
                {"entry_id": s.entry_id, "question": s.question, "score": round(s.score, 4)}
                for s in reply.suggestions
            ]
        if question is not None:
            bot_meta["question"] = question
        stored, _ = await self.writer.append(
            NewMessage(
                conversation_id=conversation.id,
                author=Author.BOT,
                sender="bot",
                author_name="Bot",
                text=text,
                bot=bot_meta,
            )
        )
        await self.hub.publish_message(stored, visitor_id=conversation.visitor_id, agent_id=None)
        failures = conversation.bot_failures + 1 if reply.failed else 0
        values: dict[str, Any] = {}
        if failures != conversation.bot_failures:
            values["bot_failures"] = failures
        if reply.lang != conversation.lang:
            values["lang"] = reply.lang

        async def work(session: AsyncSession) -> None:
            if values:
                await repo.update_conversation(session, conversation.id, **values)
            if question is not None and reply.outcome != "answer":
                self._record_miss(session, conversation, reply, question, stored.id)

        await db.run_transaction(self.sessions, work)
        if reply.outcome == "handoff" and self.request_handoff is not None:
            await self.request_handoff(
                conversation.id, escalate=reply.reason == "angry", actor="bot"
            )

    def _record_miss(
        self,
        session: AsyncSession,
        conversation: BotContext,
        reply: BotReply,
        question: str,
        message_id: str,
    ) -> None:
        session.add(
            t.BotMiss(
                id=new_id(),
                created_at=self.clock(),
                conversation_id=conversation.id,
                message_id=message_id,
                text=question,
                lang=reply.lang,
                outcome=reply.outcome,
                entry_id=reply.entry_id
                or (reply.suggestions[0].entry_id if reply.suggestions else None),
                score=reply.score,
            )
        )

    async def feedback(
        self, *, conversation: ConversationView, message_id: str, helpful: bool
    ) -> None:
        """'Did this help?': an unhelpful answer is recorded for the admins."""

        async def work(session: AsyncSession) -> None:
            message = await repo.set_helpful(
                session, message_id=message_id, conversation_id=conversation.id, helpful=helpful
            )
            if message is None:
                raise NotFoundError("no such bot message in this conversation")
            if not helpful and message.bot is not None:
                session.add(
                    t.BotMiss(
                        id=new_id(),
                        created_at=self.clock(),
                        conversation_id=conversation.id,
                        message_id=message.id,
                        text=str(message.bot.get("question") or ""),
                        lang=str(message.bot.get("lang") or conversation.lang),
                        outcome="unhelpful",
                        entry_id=message.bot.get("entry_id"),
                        score=float(message.bot.get("score") or 0.0),
                    )
                )

        await db.run_transaction(self.sessions, work)

    # -- visitor: leaving a message, rating, closing ---------------------------------------

    async def leave_message(
        self, *, conversation: ConversationView, email: str, text: str
    ) -> Transitioned:
        """Nobody is online: the visitor's message and email are stored, the conversation
        waits as ``pending`` (one transaction; published after its commit)."""
        text = self.check_text(text)

        async def work(session: AsyncSession) -> Transitioned:
            # The visitor's row before the conversation's: the lock order of open_visitor.
            await repo.touch_visitor(
                session, conversation.visitor_id, now=self.clock(), email=email
            )
            result = await self.apply(
                conversation.id,
                Action.GO_PENDING,
                actor=f"visitor:{conversation.visitor_id}",
                values={"queued_at": self.clock()},
                system=("message_left", {"email": email}),
                session=session,
            )
            session.add(
                t.LeftMessage(
                    id=new_id(),
                    conversation_id=conversation.id,
                    email=email,
                    text=text,
                    created_at=self.clock(),
                )
            )
            await repo.append_messages(
                session,
                [
                    NewMessage(
                        conversation_id=conversation.id,
                        author=Author.VISITOR,
                        sender=f"visitor:{conversation.visitor_id}",
                        author_name=email,
                        text=text,
                    )
                ],
                now=self.clock(),
            )
            return result

        result = await db.run_transaction(self.sessions, work)
        await self.announce(result)
        await self.hub.publish_route()
        return result

    async def rate(
        self, *, conversation: ConversationView, score: int, comment: str | None
    ) -> None:
        if conversation.state != State.CLOSED:
            raise IllegalStateError("a conversation can be rated once it is closed")

        async def work(session: AsyncSession) -> None:
            await repo.update_conversation(
                session, conversation.id, rating=score, rating_comment=comment
            )
            await repo.record_event(
                session,
                conversation.id,
                "rated",
                now=self.clock(),
                actor=f"visitor:{conversation.visitor_id}",
                data={"score": score},
            )

        await db.run_transaction(self.sessions, work)

    async def close(self, conversation_id: str, *, actor: str, idle: bool = False) -> Transitioned:
        """Close from any open state; visitor and agent both see it."""
        result = await self.apply(
            conversation_id,
            Action.CLOSE,
            actor=actor,
            system=("idle_closed" if idle else "closed", {}),
        )
        await self.announce(result)
        await self.publish_closed(result)
        return result

    async def publish_closed(self, result: Transitioned) -> None:
        conversation = result.after
        await self.hub.publish_frame(
            {"type": "closed", "conversation_id": conversation.id},
            visitor_id=conversation.visitor_id,
            conversation_id=conversation.id,
        )
        agent_id = result.before.agent_id or result.before.offered_to
        if agent_id is not None:
            await self.hub.publish_frame(
                {"type": "closed", "conversation_id": conversation.id},
                agent_id=agent_id,
                watchers_of=conversation.id,
            )
            await self.hub.publish_unassigned(conversation.id, agent_id)
        await self.hub.publish_route()

    # -- agent side ------------------------------------------------------------------------

    async def agent_message(
        self, *, agent_id: str, agent_name: str, conversation_id: str, client_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store the assigned agent's message (refused unless they own the conversation; a
        re-send after the chat moved on still gets its stored message back)."""
        text = self.check_text(text)
        appended = await self.writer.store(
            NewMessage(
                conversation_id=conversation_id,
                author=Author.AGENT,
                sender=f"agent:{agent_id}",
                author_name=agent_name,
                text=text,
                client_id=client_id,
                expect_states=frozenset({State.ASSIGNED}),
                expect_agent=agent_id,
            )
        )
        if appended.created:
            await self.hub.publish_message(
                appended.message, visitor_id=appended.conversation.visitor_id, agent_id=agent_id
            )
        return appended.message, appended.created

    async def note(
        self, *, agent_id: str, agent_name: str, conversation_id: str, text: str
    ) -> StoredMessage:
        """A private note: stored in the history, shown to agents and supervisors only."""
        text = self.check_text(text)
        conversation = await self.get(conversation_id)
        if conversation.state == State.CLOSED:
            raise IllegalStateError("the conversation is closed")
        stored, _ = await self.writer.append(
            NewMessage(
                conversation_id=conversation_id,
                author=Author.NOTE,
                sender=f"agent:{agent_id}",
                author_name=agent_name,
                text=text,
            )
        )
        await self.hub.publish_message(
            stored, visitor_id=conversation.visitor_id, agent_id=conversation.agent_id
        )
        return stored


def _event_name(action: Action) -> str:
    from chatdesk.conversations.model import EVENT_NAMES

    return EVENT_NAMES[action]
