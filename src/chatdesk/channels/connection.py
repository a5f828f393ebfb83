"""One websocket connection: a bounded, ordered outbound queue drained by a writer task.

Everything a connection must send goes through ``enqueue`` in order: ready frames, and
*deliveries* that may read the database first (catching up a gap in ``seq``). Each
connection tracks the last ``seq`` it sent per conversation, so every message reaches it
exactly once and in order, whichever way it arrived (acknowledgement, broker fan-out,
catch-up after a gap). Slow-client policy: when the queue is full the connection is closed
with 1013 (try again later); the client resumes with ``after_seq`` and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from chatdesk.clock import new_id
from chatdesk.conversations.values import StoredMessage

log = logging.getLogger(__name__)

SEND_QUEUE_LIMIT = 512  # frames a client may lag behind before it is dropped (1013)
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN = 1013

History = Callable[[str, int, bool], Awaitable[list[StoredMessage]]]
Outbound = dict[str, Any] | Callable[[], Awaitable[None]]


class Connection:
    def __init__(self, websocket: WebSocket, *, history: History, include_notes: bool) -> None:
        self.id = new_id()
        self.websocket = websocket
        self._history = history
        self._include_notes = include_notes
        self._queue: asyncio.Queue[Outbound | None] = asyncio.Queue(SEND_QUEUE_LIMIT)
        self.last_seq: dict[str, int] = {}
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._reader: asyncio.Task[Any] | None = None

    @property
    def backlog(self) -> int:
        """Frames and deliveries queued but not yet written (metrics and tests)."""
        return self._queue.qsize()

    # -- sending -------------------------------------------------------------------------

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a ready frame (non-blocking)."""
        self._put(frame)

    def deliver(self, message: StoredMessage, *, ack: bool = False, resent: bool = False) -> None:
        """Queue a message for in-order, exactly-once delivery on this connection.

        ``ack``: this connection sent it (deliver even if it follows nothing yet; the
        broker's copy of the same message is then skipped as already sent). ``resent``: the
        client re-sent a stored ``client_id``; it gets the stored message again.
        """
        self._put(lambda: self._deliver(message, ack=ack, resent=resent))

    def resync(self, conversation_id: str) -> None:
        """Queue a catch-up of ``conversation_id`` from the database (after a broker gap)."""
        self._put(lambda: self._catch_up(conversation_id))

    def run_in_order(self, step: Callable[[], Awaitable[None]]) -> None:
        """Queue an arbitrary step that sends frames, ordered with everything else."""
        self._put(step)

    def _put(self, item: Outbound) -> None:
        if self.closed.is_set():
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            log.info("connection %s too slow; closing with 1013", self.id)
            self.begin_close(CLOSE_TRY_AGAIN, "too slow")

    def begin_close(self, code: int, reason: str = "") -> None:
        """Ask the writer to close the socket after nothing else (used from any task)."""
        if self.close_code is None:
            log.debug("closing connection %s with %d: %s", self.id, code, reason)
            self.close_code = code
            self._drain()
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def _deliver(self, message: StoredMessage, *, ack: bool, resent: bool) -> None:
        conversation_id = message.conversation_id
        last = self.last_seq.get(conversation_id)
        if last is None:
            if not ack:
                return  # not following this conversation (yet): a later snapshot covers it
            last = message.seq - 1
        if message.seq <= last:
            if resent:  # a re-sent client_id: acknowledge again with the stored message
                await self.write(message.frame(for_agent=self._include_notes))
            return  # already sent on this connection (e.g. the broker's copy came first)
        if message.seq > last + 1:
            # The database is read after message.seq was committed, so everything before it
            # is visible now: catch up, then nothing below it can be missing (visitors skip
            # private notes, which also take a seq).
            await self._catch_up(conversation_id)
            if message.seq <= self.last_seq.get(conversation_id, 0):
                return
        await self.write(message.frame(for_agent=self._include_notes))
        self.last_seq[conversation_id] = message.seq

    async def _catch_up(self, conversation_id: str) -> None:
        last = self.last_seq.get(conversation_id)
        if last is None:
            return
        for missed in await self._history(conversation_id, last, self._include_notes):
            await self.write(missed.frame(for_agent=self._include_notes))
            self.last_seq[conversation_id] = missed.seq

    def follow(self, conversation_id: str, last_seq: int) -> None:
        """Start tracking a conversation whose messages up to ``last_seq`` were sent."""
        self.last_seq[conversation_id] = last_seq

    def unfollow(self, conversation_id: str) -> None:
        self.last_seq.pop(conversation_id, None)

    async def write(self, frame: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    def bind_reader(self, task: asyncio.Task[Any] | None) -> None:
        """The task reading this socket: cancelled when the server closes the connection,
        so the reader needs no second future per frame to notice (None: it has stopped
        reading and must not be cancelled any more)."""
        self._reader = task

    async def writer(self) -> None:
        """Drain the queue onto the socket until closed; the handler owns this task."""
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                if callable(item):
                    await item()
                else:
                    await self.write(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the peer went away; the reader notices too
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("writer of connection %s failed", self.id)
            self.close_code = self.close_code or CLOSE_INTERNAL
        finally:
            self.closed.set()
            if self.close_code is not None:
                await self._close_socket(self.close_code)
                if self._reader is not None and not self._reader.done():
                    self._reader.cancel()

    async def _close_socket(self, code: int) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code)
