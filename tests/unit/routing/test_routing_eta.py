"""The wait-estimate model of docs/routing.md, checked on fixed scenarios."""

from __future__ import annotations

import pytest

from chatdesk.routing.eta import DEFAULT_HANDLE_TIME_S, estimate_wait, recent_handle_time
from chatdesk.routing.rules import AgentView, WaitingView, seat_counts
from tests.unit.routing.views import NOW, agent, waiting


@pytest.mark.parametrize(
    ("position", "free", "total", "handle_s", "expected_s"),
    [
        # Two agents, max_chats=1, both free (2 of 2 seats); 4 min handle time; 3rd in line
        # needs the 1st seat to free: 1 * 240 / 2 = 120 s.
        (3, 2, 2, 240.0, 120),
        # Positions within the free seats are served at once.
        (1, 2, 2, 240.0, 0),
        (2, 2, 2, 240.0, 0),
        # One agent, 3 seats all busy, 5 min: 2nd in line waits for the 2nd seat: 2*300/3.
        (2, 0, 3, 300.0, 200),
        # Three agents x 2 seats, one free; 5th in line: (5-1) * 180 / 6 = 120 s.
        (5, 1, 6, 180.0, 120),
        # Rounded up to whole seconds: 1 * 100 / 3 = 33.3 -> 34.
        (1, 0, 3, 100.0, 34),
        # A single busy seat and a long queue: 10 * 420 / 1.
        (10, 0, 1, 420.0, 4200),
    ],
)
def test_estimate_follows_the_seat_model(
    position: int, free: int, total: int, handle_s: float, expected_s: int
) -> None:
    estimate = estimate_wait(
        position, free_seats=free, total_seats=total, recent_handle_time_s=handle_s
    )
    assert estimate == expected_s


def test_no_seat_online_gives_no_estimate() -> None:
    assert estimate_wait(1, free_seats=0, total_seats=0, recent_handle_time_s=300) is None


def test_language_fallback_delay_is_a_lower_bound() -> None:
    # Free seats exist but open to this visitor only after the fallback: 45 s left.
    assert (
        estimate_wait(1, free_seats=2, total_seats=2, recent_handle_time_s=240, not_before_s=44.2)
        == 45
    )
    # A longer seat wait wins over the fallback delay.
    assert (
        estimate_wait(4, free_seats=0, total_seats=2, recent_handle_time_s=240, not_before_s=45)
        == 480
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"position": 0}, "position is 1-based"),
        ({"free_seats": 3}, r"free_seats \(3\) exceeds total_seats \(2\)"),
        ({"recent_handle_time_s": 0.0}, "recent_handle_time_s must be > 0"),
        ({"not_before_s": -1.0}, "not_before_s must be >= 0"),
    ],
)
def test_bad_estimate_input_is_refused(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {
        "position": 1,
        "free_seats": 1,
        "total_seats": 2,
        "recent_handle_time_s": 60.0,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        estimate_wait(
            int(args["position"]),
            free_seats=int(args["free_seats"]),
            total_seats=int(args["total_seats"]),
            recent_handle_time_s=args["recent_handle_time_s"],
            not_before_s=args.get("not_before_s", 0.0),
        )


def test_handle_time_without_history_is_the_default() -> None:
    assert recent_handle_time([]) == DEFAULT_HANDLE_TIME_S == 300.0


def test_handle_time_is_the_median_so_one_forgotten_chat_does_not_dominate() -> None:
    assert recent_handle_time([120, 180, 3600]) == 180.0
    assert recent_handle_time([100, 200, 300, 400]) == 250.0


def test_handle_time_uses_only_the_most_recent_window() -> None:
    old = [10_000.0] * 50
    recent = [60.0, 90.0, 120.0]
    assert recent_handle_time(old + recent, window=3) == 90.0
    assert recent_handle_time(old + recent * 7) == 90.0  # last 20 are all recent


def test_all_zero_durations_fall_back_to_the_default() -> None:
    assert recent_handle_time([0.0, 0.0, 0.0]) == DEFAULT_HANDLE_TIME_S


def test_negative_or_nan_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="finite and >= 0"):
        recent_handle_time([60.0, -5.0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        recent_handle_time([float("nan")])


def _eta_for(conv: WaitingView, position: int, agents: list[AgentView]) -> int | None:
    seats = seat_counts(conv, agents, now=NOW, language_fallback_s=60)
    return estimate_wait(
        position,
        free_seats=seats.free_seats,
        total_seats=seats.total_seats,
        recent_handle_time_s=recent_handle_time([180, 240, 300]),
        not_before_s=seats.not_before_s,
    )


def test_worked_example_of_the_docs() -> None:
    free = [agent("a", max_chats=1), agent("b", max_chats=1)]
    busy = [agent("a", max_chats=1, active_chats=1), agent("b", max_chats=1, active_chats=1)]
    english = waiting("en", waited_s=30)
    assert [_eta_for(english, p, free) for p in (1, 2, 3)] == [0, 0, 120]
    assert _eta_for(english, 3, busy) == 360
    assert _eta_for(waiting("lv", lang="lv", waited_s=15), 1, free) == 45
    assert _eta_for(english, 1, []) is None
