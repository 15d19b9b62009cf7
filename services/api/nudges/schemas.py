"""Request and response bodies for nudges and notification preferences."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.nudges.nudge import NudgeKind
from domain.nudges.preferences import (
    DEFAULT_DAILY_CAP,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_REMINDER_TIME,
)
from services.api.goals.schemas import Body

MAX_MUTED_GOALS = 200
MAX_ENCOURAGEMENT = 500

ClockTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="A local time, `HH:MM`.",
        examples=["21:00"],
    ),
]
DailyCap = Annotated[int, msgspec.Meta(ge=1, le=20)]


def clock(value: str) -> str:
    return value[:5]


class QuietHours(Body, frozen=True):
    """Nothing is sent between `start` and `end` (it waits for `end`); equal means none."""

    start: ClockTime = clock(DEFAULT_QUIET_START.isoformat())
    end: ClockTime = clock(DEFAULT_QUIET_END.isoformat())


class Channels(Body, frozen=True):
    in_app: bool = True
    email: bool = True


class PreferencesIn(Body, frozen=True):
    """The whole of one's preferences: a field left out takes its default."""

    quiet_hours: QuietHours = msgspec.field(default_factory=QuietHours)
    daily_cap: DailyCap = DEFAULT_DAILY_CAP
    reminder_time: ClockTime = clock(DEFAULT_REMINDER_TIME.isoformat())
    """When reminders come, for goals whose cue names no time of its own."""
    channels: Channels = msgspec.field(default_factory=Channels)
    muted_goals: Annotated[list[UUID], msgspec.Meta(max_length=MAX_MUTED_GOALS)] = msgspec.field(
        default_factory=list
    )
    """Goals to hear nothing about."""
    time_zone: str | None = None
    """Changes one's own time zone (as `PATCH /v1/users/{id}` does); left out, it stays."""


class PreferencesOut(msgspec.Struct, frozen=True):
    time_zone: str
    quiet_hours: QuietHours
    daily_cap: int
    reminder_time: str
    channels: Channels
    muted_goals: list[UUID]


class NudgeOut(msgspec.Struct, frozen=True):
    id: UUID
    kind: NudgeKind
    goal_id: UUID | None
    message: str
    sent_at: datetime
    read_at: datetime | None


class NudgePage(msgspec.Struct, frozen=True):
    items: list[NudgeOut]
    next_cursor: str | None


class NewEncouragement(Body, frozen=True):
    message: Annotated[str, msgspec.Meta(max_length=MAX_ENCOURAGEMENT)]


class EncouragementOut(msgspec.Struct, frozen=True):
    nudge_id: UUID
    status: str
    """`pending`: it goes out within a minute, or after the client's quiet hours."""


class Unsubscribed(msgspec.Struct, frozen=True):
    email: bool
