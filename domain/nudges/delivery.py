"""When a stored nudge goes out: now, later, or never.

Pure: the pending nudges of one person, their preferences, how many they were sent today and
`now` in; one decision per nudge out. Nothing is sent in quiet hours (it waits for the end of
them), nor past the daily cap (it waits for the next day), nor on a channel or goal the person
turned off; whatever has gone stale by the time it could be sent is dropped, with the reason.
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import msgspec

from domain.nudges.nudge import PRIORITY, NudgeKind
from domain.nudges.preferences import (
    Channel,
    Preferences,
    in_quiet_hours,
    next_local_day,
    quiet_hours_end,
)


class Pending(msgspec.Struct, frozen=True, gc=False):
    nudge_id: UUID
    kind: NudgeKind
    goal_id: UUID | None
    deliver_at: datetime
    stale_at: datetime | None


class Send(msgspec.Struct, frozen=True, gc=False, tag="send"):
    nudge_id: UUID
    channels: tuple[Channel, ...]


class Defer(msgspec.Struct, frozen=True, gc=False, tag="defer"):
    nudge_id: UUID
    until: datetime
    because: str


class Drop(msgspec.Struct, frozen=True, gc=False, tag="drop"):
    nudge_id: UUID
    reason: str


Decision = Send | Defer | Drop


def _order(pending: Pending) -> tuple[int, datetime, UUID]:
    return PRIORITY[pending.kind], pending.deliver_at, pending.nudge_id


def plan(
    pending: Iterable[Pending], preferences: Preferences, sent_today: int, now: datetime
) -> list[Decision]:
    """A decision for each of one person's nudges that are due (`deliver_at` not after `now`).

    Under the cap, the nudges that matter most go first (see PRIORITY), then the oldest.
    """
    decisions: list[Decision] = []
    room = max(preferences.daily_cap - sent_today, 0)
    quiet = in_quiet_hours(now, preferences)
    for nudge in sorted(pending, key=_order):
        if nudge.stale_at is not None and now >= nudge.stale_at:
            decisions.append(Drop(nudge.nudge_id, "stale"))
        elif nudge.goal_id is not None and nudge.goal_id in preferences.muted_goals:
            decisions.append(Drop(nudge.nudge_id, "goal_muted"))
        elif not preferences.channels:
            decisions.append(Drop(nudge.nudge_id, "all_channels_off"))
        elif quiet:
            until = quiet_hours_end(now, preferences)
            decisions.append(Defer(nudge.nudge_id, until, "quiet_hours"))
        elif room == 0:
            decisions.append(Defer(nudge.nudge_id, next_local_day(now, preferences), "daily_cap"))
        else:
            room -= 1
            decisions.append(Send(nudge.nudge_id, preferences.channels))
    return decisions
