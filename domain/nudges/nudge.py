"""What a nudge is: a short message to one person, about one goal or one client, with a key that
names it for good, so that whatever finds it twice stores and sends it once."""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

NudgeKind = Literal[
    "check_in_reminder",
    "due_soon",
    "overdue",
    "celebration",
    "after_miss",
    "overload",
    "encouragement",
    "endpoint_failing",
]

# When the daily cap leaves room for only some, these go first: what people send each other and
# what marks an outcome before what the service reminds on its own.
PRIORITY: dict[NudgeKind, int] = {
    # Before the clinic loses a feed to another system: it must be acted on within a day.
    "endpoint_failing": 0,
    "encouragement": 0,
    "celebration": 1,
    "after_miss": 2,
    "overdue": 3,
    "due_soon": 4,
    "check_in_reminder": 5,
    "overload": 6,
}


class Nudge(msgspec.Struct, frozen=True, gc=False):
    """A nudge found due: stored under `key` before anything is sent."""

    key: str
    kind: NudgeKind
    recipient_id: UUID
    clinic_id: UUID
    goal_id: UUID | None
    message: str
    deliver_at: datetime
    """The moment it is meant for; quiet hours and the daily cap may move it later."""
    stale_at: datetime | None
    """Past this it no longer helps (a reminder for a period that has ended) and is dropped."""


def nudge_key(kind: NudgeKind, subject: UUID, occurrence: str, recipient_id: UUID) -> str:
    """(rule, goal or client, period or occurrence, recipient): the same finding, the same key."""
    return f"{kind}:{subject}:{occurrence}:{recipient_id}"
