"""Bounded polling for state that has no event to await: the server's internals, a file
watcher, a reader task, or other processes and their database.

One helper for sync and async conditions. Its time limit is a hang guard, not a statement
about speed: a slow machine only makes the test slower, and a condition that never holds
fails as an assertion naming what never happened (not as a bare ``TimeoutError``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

WAIT_S = 10.0  # hang protection only
POLL_S = 0.02  # an in-memory check costs next to nothing
QUERY_POLL_S = 0.2  # each poll is a database query or HTTP request: leave the CPU to servers

Condition = Callable[[], bool] | Callable[[], Awaitable[bool]]


async def eventually(
    condition: Condition, *, what: str, timeout_s: float = WAIT_S, poll_s: float = POLL_S
) -> None:
    """Poll ``condition`` (a plain or an async function) until it holds.

    Raises ``AssertionError("never happened: <what>")`` when ``timeout_s`` runs out; any
    other error, a ``TimeoutError`` of the condition's own included, propagates as it is.
    """
    guard = asyncio.timeout(timeout_s)
    try:
        async with guard:
            while not await _holds(condition):  # noqa: ASYNC110 - no event to await here
                await asyncio.sleep(poll_s)
    except TimeoutError:
        if not guard.expired():
            raise
        raise AssertionError(f"never happened: {what}") from None


async def _holds(condition: Condition) -> bool:
    result = condition()
    if inspect.isawaitable(result):
        return bool(await result)
    return bool(result)
