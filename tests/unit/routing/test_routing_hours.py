"""Business hours: parsing, errors and DST edges in Europe/Prague."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatdesk.routing.hours import HoursSpecError, Window, is_open, parse_hours

PRAGUE = "Europe/Prague"
OFFICE = parse_hours("mon-fri 08:00-18:00; sat 09:00-13:00", timezone=PRAGUE)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_parses_days_ranges_lists_and_several_windows() -> None:
    hours = parse_hours("mon, wed 08:00-12:00, 13:00-17:00; sat 9:00-13:00", timezone=PRAGUE)
    assert hours.windows == (
        Window(0, 480, 720),
        Window(0, 780, 1020),
        Window(2, 480, 720),
        Window(2, 780, 1020),
        Window(5, 540, 780),
    )


def test_day_range_wraps_over_the_weekend() -> None:
    hours = parse_hours("fri-mon 10:00-11:00", timezone=PRAGUE)
    assert [w.weekday for w in hours.windows] == [4, 5, 6, 0]


def test_window_may_end_at_midnight() -> None:
    hours = parse_hours("sun 22:00-24:00", timezone="UTC")
    assert is_open(hours, utc(2024, 5, 5, 23, 59))
    assert not is_open(hours, utc(2024, 5, 6, 0, 0))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mon", "expected days then times"),
        ("08:00-18:00", "expected days then times"),
        ("mon-fro 08:00-18:00", "'mon-fro' is not a day or day range"),
        ("mon 8-18", "'8' is not a time HH:MM"),
        ("mon 08:00", "'08:00' is not a window HH:MM-HH:MM"),
        ("mon 18:00-08:00", "must end after it starts"),
        ("mon 08:00-24:30", "'24:30' is not a time of day"),
        ("mon 08:61-09:00", "'08:61' is not a time of day"),
    ],
)
def test_bad_spec_gets_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(HoursSpecError, match=message):
        parse_hours(spec, timezone=PRAGUE)


def test_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(HoursSpecError, match="unknown time zone 'Mars/Olympus'"):
        parse_hours("mon 08:00-09:00", timezone="Mars/Olympus")


@pytest.mark.parametrize("spec", ["", "   ", " ; "])
def test_empty_spec_is_always_open(spec: str) -> None:
    hours = parse_hours(spec, timezone=PRAGUE)
    assert hours.windows == ()
    assert is_open(hours, utc(2024, 12, 25, 3, 0))


def test_unset_hours_are_always_open() -> None:
    assert is_open(None, utc(2024, 12, 25, 3, 0))


def test_opening_follows_local_time_in_winter_and_summer() -> None:
    # Winter (CET, UTC+1): 08:00 local is 07:00 UTC.
    assert not is_open(OFFICE, utc(2024, 1, 15, 6, 59))
    assert is_open(OFFICE, utc(2024, 1, 15, 7, 0))
    assert not is_open(OFFICE, utc(2024, 1, 15, 17, 0))  # 18:00 local: closed
    # Summer (CEST, UTC+2): 08:00 local is 06:00 UTC.
    assert is_open(OFFICE, utc(2024, 7, 15, 6, 0))
    assert not is_open(OFFICE, utc(2024, 7, 15, 16, 0))  # 18:00 local


def test_saturday_and_sunday() -> None:
    assert is_open(OFFICE, utc(2024, 7, 13, 7, 0))  # Sat 09:00 CEST
    assert not is_open(OFFICE, utc(2024, 7, 13, 11, 0))  # Sat 13:00 CEST
    assert not is_open(OFFICE, utc(2024, 7, 14, 9, 0))  # Sunday


def test_monday_after_spring_change_opens_at_local_eight() -> None:
    # Clocks went forward on Sunday 2024-03-31; Friday before opened at 07:00 UTC,
    # Monday after opens at 06:00 UTC.
    assert is_open(OFFICE, utc(2024, 3, 29, 7, 0))
    assert not is_open(OFFICE, utc(2024, 3, 29, 6, 30))
    assert is_open(OFFICE, utc(2024, 4, 1, 6, 0))


def test_skipped_spring_hour_never_opens() -> None:
    night = parse_hours("sun 02:00-03:00", timezone=PRAGUE)
    # 2024-03-31 01:00 UTC: 02:00 CET jumps to 03:00 CEST, so 02:xx never happens.
    assert not is_open(night, utc(2024, 3, 31, 0, 59))  # 01:59 CET
    assert not is_open(night, utc(2024, 3, 31, 1, 0))  # 03:00 CEST
    # A normal Sunday the week before is open at 02:30 CET.
    assert is_open(night, utc(2024, 3, 24, 1, 30))


def test_repeated_autumn_hour_is_open_both_times() -> None:
    night = parse_hours("sun 02:00-03:00", timezone=PRAGUE)
    # 2024-10-27: 03:00 CEST falls back to 02:00 CET, so 02:30 local happens twice.
    assert is_open(night, utc(2024, 10, 27, 0, 30))  # 02:30 CEST
    assert is_open(night, utc(2024, 10, 27, 1, 30))  # 02:30 CET
    assert not is_open(night, utc(2024, 10, 27, 2, 0))  # 03:00 CET


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(OFFICE, datetime(2024, 1, 15, 9, 0))
