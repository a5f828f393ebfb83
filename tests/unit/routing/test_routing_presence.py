"""Presence grace and the expired-offer streak (docs/routing.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatdesk.routing.presence_rules import (
    GraceOutcome,
    Liveness,
    after_offer_answered,
    after_offer_expired,
    counts_as_connected,
    grace_outcome,
    liveness,
)

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def state(last_seen_ago: float | None, disconnected_ago: float | None) -> Liveness:
    return liveness(
        last_seen=None if last_seen_ago is None else ago(last_seen_ago),
        disconnected_at=None if disconnected_ago is None else ago(disconnected_ago),
        now=NOW,
        grace_s=30,
        heartbeat_s=20,
    )


def test_open_socket_with_recent_heartbeat_is_connected() -> None:
    assert state(5, None) is Liveness.CONNECTED


def test_never_connected_agent_is_gone() -> None:
    assert state(None, None) is Liveness.GONE


def test_closed_socket_is_in_grace_until_grace_ends() -> None:
    assert state(10, 10) is Liveness.IN_GRACE
    assert state(30, 29.9) is Liveness.IN_GRACE
    assert state(30, 30) is Liveness.GONE


def test_silent_socket_counts_as_lost_after_two_missed_heartbeats() -> None:
    assert state(39, None) is Liveness.CONNECTED  # lost only at last_seen + 40 s
    assert state(40, None) is Liveness.IN_GRACE  # lost now, grace starts
    assert state(69, None) is Liveness.IN_GRACE
    assert state(70, None) is Liveness.GONE  # 40 s silence + 30 s grace


def test_in_grace_counts_as_connected_and_gone_does_not() -> None:
    assert counts_as_connected(Liveness.CONNECTED)
    assert counts_as_connected(Liveness.IN_GRACE)
    assert not counts_as_connected(Liveness.GONE)


def test_nothing_is_requeued_while_connected_or_in_grace() -> None:
    for live in (Liveness.CONNECTED, Liveness.IN_GRACE):
        assert grace_outcome(live, assigned=["c1"], offered=["c2"]) == GraceOutcome((), ())


def test_past_grace_assigned_are_requeued_at_front_and_offers_revoked() -> None:
    outcome = grace_outcome(Liveness.GONE, assigned=["c1", "c3"], offered=["c2"])
    assert outcome == GraceOutcome(requeue_front=("c1", "c3"), revoke_offers=("c2",))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        liveness(last_seen=None, disconnected_at=None, now=datetime(2024, 1, 1))


def test_first_expired_offer_only_counts() -> None:
    outcome = after_offer_expired(0)
    assert (outcome.consecutive_expired, outcome.set_away) == (1, False)


def test_second_expired_offer_in_a_row_sets_away_and_restarts_the_streak() -> None:
    outcome = after_offer_expired(1)
    assert (outcome.consecutive_expired, outcome.set_away) == (0, True)


def test_an_answered_offer_breaks_the_streak() -> None:
    count = after_offer_expired(0).consecutive_expired
    count = after_offer_answered()
    outcome = after_offer_expired(count)
    assert not outcome.set_away


def test_negative_streak_is_refused() -> None:
    with pytest.raises(ValueError, match="consecutive_expired must be >= 0"):
        after_offer_expired(-1)
