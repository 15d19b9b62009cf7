"""A goal's history as a timeline in plain words: each adjustment's terms before and after with
its reason, each check-in, and how the goal ended."""

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

import msgspec

from services.api.goals.schemas import HistoryEntry

CAUSE_WORDS = {
    "unrealistic": "The goal asked too much for now",
    "obstacles": "Things got in the way",
    "misaligned_with_values": "It did not fit what matters to me",
    "other": "Something else",
}
_TITLES = {
    "goal_set": "Goal set",
    "goal_adjusted": "Goal adjusted",
    "progress_recorded": "Checked in",
    "goal_achieved": "Achieved. Well done!",
    "goal_missed": "Not this time",
    "goal_paused": "Paused",
    "goal_resumed": "Resumed",
    "goal_cancelled": "Set aside",
    "correction_recorded": "Marked as entered in error",
    "supporter_added": "Shared with a partner",
    "supporter_removed": "No longer shared with a partner",
    "goal_rated": "Progress rated by the therapist",
}
_FIELDS = {
    "statement": "What",
    "life_area": "Life area",
    "values": "Values",
    "measure": "Measure",
    "cue": "Cue",
    "due_date": "Due",
    "priority": "Priority",
    "time_zone": "Time zone",
}
LIFE_AREAS = {
    "relationships": "Relationships",
    "work_school": "Work or school",
    "mental_health": "Mental health",
    "physical_health": "Physical health",
    "other": "Something else",
}
CADENCES = {
    "per_day": "a day",
    "per_week": "a week",
    "per_month": "a month",
    "by_due_date": "by the due date",
}


class Change(msgspec.Struct, frozen=True):
    field: str
    before: str
    after: str


class Moment(msgspec.Struct, frozen=True):
    when: datetime
    when_text: str
    title: str
    who: str
    details: list[str]
    changes: list[Change]
    reason: str | None
    entered_in_error: bool


def measure_text(measure: dict[str, object]) -> str:
    target = cast(float, measure.get("target", 0))
    return f"{target:g} {measure.get('unit', '')} {CADENCES.get(str(measure.get('cadence')), '')}"


def _value_text(field: str, value: object) -> str:
    if value is None:
        return "(none)"
    if field == "measure" and isinstance(value, dict):
        return measure_text(cast(dict[str, object], value))
    if field == "life_area":
        return LIFE_AREAS.get(str(value), str(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value)


def _changes(data: dict[str, object]) -> list[Change]:
    before = cast(dict[str, object], data.get("before") or {})
    after = cast(dict[str, object], data.get("after") or {})
    return [
        Change(label, _value_text(field, before.get(field)), _value_text(field, after.get(field)))
        for field, label in _FIELDS.items()
        if field in before or field in after
    ]


def _details(entry: HistoryEntry) -> list[str]:
    data = entry.data
    if entry.type == "goal_set":
        terms = cast(dict[str, object], data.get("terms") or {})
        return [str(terms.get("statement", ""))]
    if entry.type == "progress_recorded":
        note = data.get("note")
        return [f"Amount: {cast(float, data.get('amount', 0)):g}", *([str(note)] if note else [])]
    if entry.type == "goal_missed":
        cause = CAUSE_WORDS.get(str(data.get("cause")), str(data.get("cause")))
        words = str(data.get("reflection") or "")
        return [f"What got in the way: {cause}", *([words] if words else [])]
    if entry.type == "goal_achieved" and data.get("note"):
        return [str(data["note"])]
    return []


def timeline(entries: list[HistoryEntry], zone: ZoneInfo) -> list[Moment]:
    """Newest first, as people read what happened lately, in the goal's time zone."""
    moments = []
    for entry in entries:
        reason = entry.reason or cast(str | None, entry.data.get("reason"))
        moments.append(
            Moment(
                when=entry.recorded_at,
                when_text=f"{entry.recorded_at.astimezone(zone):%-d %B %Y, %H:%M}",
                title=_TITLES.get(entry.type, entry.type.replace("_", " ").capitalize()),
                who=entry.actor.name or entry.actor.role,
                details=_details(entry),
                changes=_changes(entry.data) if entry.type == "goal_adjusted" else [],
                reason=reason,
                entered_in_error=entry.entered_in_error,
            )
        )
    return list(reversed(moments))
