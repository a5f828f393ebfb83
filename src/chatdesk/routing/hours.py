"""Weekly business hours in a time zone, parsed from a compact string (pure).

``"mon-fri 08:00-18:00; sat 09:00-13:00"``: clauses separated by ``;``, each a day, a day
range (``fri-mon`` wraps over the weekend) or a comma list (``mon,wed``), then one or more
``HH:MM-HH:MM`` windows separated by ``,``. Times are local wall-clock times in the
configured zone, so opening follows daylight saving time; ``24:00`` ends a window at
midnight, and a window crossing midnight is written as two (``fri 22:00-24:00; sat
00:00-02:00``). An empty spec means always open. Details: ``docs/routing.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_CLAUSE = re.compile(r"^([a-z][a-z,\s-]*?)\s+(\d.*)$")


class HoursSpecError(ValueError):
    """A business-hours string or time zone that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Window:
    """Open on ``weekday`` (0 = Monday) from ``start_min`` up to, not including, ``end_min``."""

    weekday: int
    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise HoursSpecError(f"weekday must be 0..6, got {self.weekday}")
        if not 0 <= self.start_min < self.end_min <= MINUTES_PER_DAY:
            raise HoursSpecError(f"window {self.start_min}-{self.end_min} min is not a day range")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening windows in ``timezone``; no windows means always open."""

    timezone: ZoneInfo
    windows: tuple[Window, ...]


def _parse_days(text: str, clause: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        ends = part.strip().split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise HoursSpecError(
                f"{clause!r}: {part.strip()!r} is not a day or day range ({', '.join(DAYS)})"
            )
        first = DAYS.index(ends[0])
        last = DAYS.index(ends[-1])
        span = (last - first) % 7
        days.extend((first + i) % 7 for i in range(span + 1))
    return days


def _parse_minute(text: str, clause: str) -> int:
    match = _TIME.match(text)
    if match is None:
        raise HoursSpecError(f"{clause!r}: {text!r} is not a time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise HoursSpecError(f"{clause!r}: {text!r} is not a time of day (00:00..24:00)")
    return hours * 60 + minutes


def _parse_window(text: str, clause: str) -> tuple[int, int]:
    ends = text.strip().split("-")
    if len(ends) != 2:
        raise HoursSpecError(f"{clause!r}: {text.strip()!r} is not a window HH:MM-HH:MM")
    start, end = (_parse_minute(e.strip(), clause) for e in ends)
    if start >= end:
        raise HoursSpecError(
            f"{clause!r}: window {text.strip()!r} must end after it starts "
            "(split a window crossing midnight into two days)"
        )
    return start, end


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursSpecError(f"unknown time zone {name!r}") from exc


def parse_hours(spec: str, *, timezone: str) -> WeeklyHours:
    """Parse ``spec`` (see the module docstring) for the IANA zone ``timezone``."""
    zone = _zone(timezone)
    windows: list[Window] = []
    for raw in spec.split(";"):
        clause = raw.strip()
        if not clause:
            continue
        match = _CLAUSE.match(clause.lower())
        if match is None:
            raise HoursSpecError(
                f"{clause!r}: expected days then times, e.g. 'mon-fri 08:00-18:00'"
            )
        day_text, times_text = match.group(1), match.group(2)
        days = _parse_days(day_text, clause)
        spans = [_parse_window(part, clause) for part in times_text.split(",")]
        windows.extend(Window(day, start, end) for day in days for start, end in spans)
    return WeeklyHours(timezone=zone, windows=tuple(windows))


def is_open(hours: WeeklyHours | None, now_utc: datetime) -> bool:
    """Whether ``now_utc`` (timezone-aware) falls in an opening window; None is always open.

    The instant is converted to the zone's wall clock first, so ``08:00`` means 08:00
    local in winter and in summer; a local time skipped by the spring change never occurs.
    """
    if now_utc.utcoffset() is None:
        raise ValueError(f"now_utc must be timezone-aware, got naive {now_utc.isoformat()}")
    if hours is None or not hours.windows:
        return True
    local = now_utc.astimezone(hours.timezone)
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    return any(w.weekday == weekday and w.start_min <= minute < w.end_min for w in hours.windows)
