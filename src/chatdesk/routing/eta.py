"""The estimated wait shown to a queued visitor (pure; model in ``docs/routing.md``).

Model: a visitor at ``position`` is served at once when ``position <= free_seats``.
Otherwise they need the ``(position - free_seats)``-th seat to free up; with
``total_seats`` seats each busy for ``handle_time_s`` on average, seats free up at a rate
of ``total_seats / handle_time_s``, so the wait is
``ceil((position - free_seats) * handle_time_s / total_seats)`` seconds, and never less
than the time left before the language fallback opens the seats (``not_before_s``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Final

# With no closed conversations yet, assume five minutes: a typical short support chat;
# an overestimate early on is better than promising an instant answer.
DEFAULT_HANDLE_TIME_S: Final = 300.0
# Recent enough to follow the team's current pace, large enough that one very long or
# very short chat does not swing the estimate (the median also damps outliers).
HANDLE_TIME_WINDOW: Final = 20


def recent_handle_time(
    durations_s: Sequence[float],
    *,
    window: int = HANDLE_TIME_WINDOW,
    default_s: float = DEFAULT_HANDLE_TIME_S,
) -> float:
    """Median handling time of the last ``window`` closed conversations.

    ``durations_s`` are the assigned-to-closed durations in closing order, oldest first.
    The median ignores the occasional chat left open for an hour; ``default_s`` when there
    is no history yet.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if default_s <= 0:
        raise ValueError(f"default_s must be > 0, got {default_s}")
    recent = list(durations_s[-window:])
    for duration in recent:
        if not math.isfinite(duration) or duration < 0:
            raise ValueError(f"handle durations must be finite and >= 0, got {duration}")
    if not recent:
        return default_s
    median = float(statistics.median(recent))
    # A run of zero-length chats (closed at once) must not promise an instant answer.
    return median if median > 0 else default_s


def estimate_wait(
    position: int,
    *,
    free_seats: int,
    total_seats: int,
    recent_handle_time_s: float,
    not_before_s: float = 0.0,
) -> int | None:
    """Estimated seconds until the visitor at ``position`` (1-based) gets an agent.

    None when ``total_seats`` is 0: no agent who could serve the visitor is online, so no
    estimate is possible (the visitor is told nobody is available instead).
    """
    if position < 1:
        raise ValueError(f"position is 1-based, got {position}")
    if total_seats < 0 or free_seats < 0:
        raise ValueError("seat counts must be >= 0")
    if free_seats > total_seats:
        raise ValueError(f"free_seats ({free_seats}) exceeds total_seats ({total_seats})")
    if not math.isfinite(recent_handle_time_s) or recent_handle_time_s <= 0:
        raise ValueError(f"recent_handle_time_s must be > 0, got {recent_handle_time_s}")
    if not math.isfinite(not_before_s) or not_before_s < 0:
        raise ValueError(f"not_before_s must be >= 0, got {not_before_s}")
    if total_seats == 0:
        return None
    ahead = position - free_seats
    seat_wait_s = 0 if ahead <= 0 else math.ceil(ahead * recent_handle_time_s / total_seats)
    return max(seat_wait_s, math.ceil(not_before_s))
