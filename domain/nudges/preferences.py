"""Each person's say over their nudges: when they may come, how many a day, by which channels,
about which goals."""

from datetime import date, datetime, time, timedelta
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

Channel = Literal["in_app", "email"]

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)
DEFAULT_DAILY_CAP = 3
DEFAULT_REMINDER_TIME = time(9, 0)


class Preferences(msgspec.Struct, frozen=True, gc=False):
    time_zone: str
    quiet_start: time = DEFAULT_QUIET_START
    quiet_end: time = DEFAULT_QUIET_END
    daily_cap: int = DEFAULT_DAILY_CAP
    reminder_time: time = DEFAULT_REMINDER_TIME
    """When reminders come on a day, for a goal that names no time in its cue."""
    in_app: bool = True
    email: bool = True
    muted_goals: frozenset[UUID] = frozenset()

    @property
    def channels(self) -> tuple[Channel, ...]:
        on: list[Channel] = []
        if self.in_app:
            on.append("in_app")
        if self.email:
            on.append("email")
        return tuple(on)


def local_time(moment: datetime, time_zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(time_zone))


def at_local(day: date, clock: time, time_zone: str) -> datetime:
    """`clock` on `day` where the person is. A clock time that a spring-forward change skips
    comes out as the same distance past the change (02:30 becomes 03:30), and one that an
    autumn change repeats as its first occurrence."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(time_zone))


def in_quiet_hours(moment: datetime, preferences: Preferences) -> bool:
    """Quiet hours may cross midnight (21:00 to 08:00) or not (13:00 to 14:00); equal start and
    end mean none."""
    clock = local_time(moment, preferences.time_zone).time()
    start, end = preferences.quiet_start, preferences.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def quiet_hours_end(moment: datetime, preferences: Preferences) -> datetime:
    """The first moment after `moment` at which the quiet hours it falls in are over."""
    day = local_time(moment, preferences.time_zone).date()
    for offset in range(3):
        end = at_local(day + timedelta(days=offset), preferences.quiet_end, preferences.time_zone)
        if end > moment and not in_quiet_hours(end, preferences):
            return end
    raise AssertionError("quiet hours end within two days")  # pragma: no cover


def next_local_day(moment: datetime, preferences: Preferences) -> datetime:
    """The start of the person's next day, or the end of its quiet hours if that is later."""
    day = local_time(moment, preferences.time_zone).date() + timedelta(days=1)
    start = at_local(day, time(0, 0), preferences.time_zone)
    return quiet_hours_end(start, preferences) if in_quiet_hours(start, preferences) else start
