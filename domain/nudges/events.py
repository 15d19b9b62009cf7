"""Nudge events: what the service said to whom, or chose not to say and why. Each nudge has a
stream of its own (`nudge-<id>`); a person's preferences are recorded in their user stream.

Tags are part of the stored format and are never renamed; a field added later goes last and has
a default."""

from datetime import time
from uuid import UUID

import msgspec

from domain.nudges.nudge import NudgeKind


class EncouragementSent(msgspec.Struct, frozen=True, gc=False, tag="encouragement_sent"):
    """A supporter's words for a client, on a goal shared with them; delivered as a nudge."""

    nudge_id: UUID
    goal_id: UUID
    client_id: UUID
    supporter_id: UUID
    text: str


class NudgeSent(msgspec.Struct, frozen=True, gc=False, tag="nudge_sent"):
    nudge_id: UUID
    key: str
    kind: NudgeKind
    recipient_id: UUID
    goal_id: UUID | None
    channels: tuple[str, ...]


class NudgeDropped(msgspec.Struct, frozen=True, gc=False, tag="nudge_dropped"):
    nudge_id: UUID
    key: str
    kind: NudgeKind
    recipient_id: UUID
    goal_id: UUID | None
    reason: str


class NotificationPreferencesChanged(
    msgspec.Struct, frozen=True, gc=False, tag="notification_preferences_changed"
):
    """The person's notification preferences as they are from now on."""

    user_id: UUID
    quiet_start: time
    quiet_end: time
    daily_cap: int
    reminder_time: time
    in_app: bool
    email: bool
    muted_goals: tuple[UUID, ...]
