"""Per-connection token buckets (pure; time is passed in)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float, cost: float = 1.0) -> bool:
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


# Why these numbers: a person types at most a few messages a second; a reconnecting widget
# flushes its outbox in a burst; typing indicators are sent at most every ~2 s by clients.
VISITOR_FRAMES_PER_S = 5.0
VISITOR_BURST = 30.0
AGENT_FRAMES_PER_S = 20.0
AGENT_BURST = 60.0
TYPING_MIN_INTERVAL_S = 0.5
ABUSE_FACTOR = 10  # refused frames in a row before the connection is closed (1008)
