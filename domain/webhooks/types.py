"""Which events an endpoint may subscribe to, by the names receivers see."""

from collections.abc import Iterable

ALL = "*"

WEBHOOK_TYPES: dict[str, str] = {
    "goal_set": "goal.set",
    "goal_adjusted": "goal.adjusted",
    "progress_recorded": "goal.progress_recorded",
    "goal_achieved": "goal.achieved",
    "goal_missed": "goal.missed",
    "goal_paused": "goal.paused",
    "goal_resumed": "goal.resumed",
    "goal_cancelled": "goal.cancelled",
    "correction_recorded": "goal.corrected",
    "goal_rated": "goal.rated",
}
"""The log's event type to the webhook's. Who supports a goal is not another system's business:
supporters joining or leaving are sent nowhere."""

NUDGE_SENT = "nudge.sent"
"""A nudge sent (the log's `nudge_sent`, in the nudge's own stream)."""

SUBSCRIBABLE = frozenset([*WEBHOOK_TYPES.values(), NUDGE_SENT])


def webhook_type(event_type: str) -> str | None:
    return WEBHOOK_TYPES.get(event_type)


def unknown_types(event_types: Iterable[str]) -> list[str]:
    """What a subscription names that is not a type (or `*` alone)."""
    listed = list(event_types)
    if listed == [ALL]:
        return []
    return [name for name in listed if name not in SUBSCRIBABLE]


def subscribes(event_types: Iterable[str], webhook_event_type: str) -> bool:
    listed = list(event_types)
    return listed == [ALL] or webhook_event_type in listed
