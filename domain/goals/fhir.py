"""A goal as an HL7 FHIR R4 Goal resource, the shape other clinic systems read.

`goal_resource(goal, record)` is pure: the goal as folded (`view.goal_detail`) and its record
(`record.goal_record`) in, a JSON-ready dict out; `history_resource(history)` folds both from a
goal's events with their stamps (`infra.goals.fhir_reads.stamp_of` makes one from a stored
event's envelope). The API's FHIR routes and the webhook feed's `fhir` format both serve what
they return, so the two never disagree.

How the service's words become FHIR's:

- status: active -> active, paused -> on-hold, achieved -> completed + achievementStatus
  achieved, missed -> completed + not-achieved (the cause in `statusReason`, the reflection in a
  `note`), cancelled -> cancelled, entered in error -> entered-in-error (never left out: a
  correction marks, it does not erase). A goal still pursued (active or paused) is
  in-progress, or, given the client's `today`, improving, worsening or no-change as its last two
  finished periods compare (what the JSON API's goal lists say, from `progress.py`).
- `statusDate` is the client's local day on which the status took effect.
- `target`: the measure, the target as `detailQuantity` (minutes in UCUM; `detailInteger` for a
  0-10 rating, `detailBoolean` for a goal that is simply done), `dueDate`, and the cadence as a
  `Timing` in an extension of the target, since FHIR's Goal has no element for it: "3 times a
  week" is `repeat` frequency 3, period 1, periodUnit wk; a target to reach by the due date is a
  `repeat` bounded by the goal's start and due dates.
- `expressedBy`: the client (Patient) or therapist (Practitioner) who set the goal.
- The shared view (an accountability partner's) keeps what the API's shared view keeps: no
  client id, notes, reasons or priority; `meta.tag` SUBSETTED says that elements are left out.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.goals.events import CorrectionRecorded, GoalEvent, ProgressRecorded
from domain.goals.progress import CountedCheckIn, achievement_status, series
from domain.goals.record import Author, GoalRecord, Stamp, goal_record
from domain.goals.terms import Cadence, GoalStatus, Measure, MissCause
from domain.goals.view import GoalDetail, goal_detail

FHIR_JSON = "application/fhir+json"
CANONICAL_BASE = "https://therapy-goals.example/fhir"
CADENCE_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/goal-target-cadence"
ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PRIORITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-priority"
UCUM = "http://unitsofmeasure.org"
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}

View = Literal["full", "shared"]
Json = dict[str, object]

LIFECYCLE: dict[GoalStatus, str] = {
    "active": "active",
    "paused": "on-hold",
    "achieved": "completed",
    "missed": "completed",
    "cancelled": "cancelled",
    "entered_in_error": "entered-in-error",
}
ACHIEVEMENT_DISPLAY = {
    "in-progress": "In Progress",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No Change",
    "achieved": "Achieved",
    "not-achieved": "Not Achieved",
}
_ASSESSED: frozenset[GoalStatus] = frozenset({"active", "paused", "achieved", "missed"})
PRIORITY = {
    "high": ("high-priority", "High Priority"),
    "medium": ("medium-priority", "Medium Priority"),
    "low": ("low-priority", "Low Priority"),
}
MISS_CAUSES: dict[MissCause, str] = {
    "unrealistic": "The goal asked more than was realistic for now.",
    "obstacles": "Unexpected obstacles got in the way.",
    "misaligned_with_values": "The goal turned out not to fit the client's values.",
    "other": "Another reason; see the reflection.",
}
LIFE_AREAS = {
    "relationships": "Relationships",
    "work_school": "Work or school",
    "mental_health": "Mental health",
    "physical_health": "Physical health",
    "other": "Other",
}
PERIOD_UNITS: dict[Cadence, str] = {"per_day": "d", "per_week": "wk", "per_month": "mo"}
_EXPRESSED_AS = {"client": "Patient", "therapist": "Practitioner"}


def goal_resource(
    goal: GoalDetail,
    record: GoalRecord,
    *,
    view: View = "full",
    today: date | None = None,
    check_ins: Sequence[CountedCheckIn] = (),
) -> Json:
    """The FHIR R4 Goal for `goal`, as `record` dates and versions it, in the caller's `view`;
    `today` is the client's local day, for the trend of a goal still pursued (None: the goal is
    only said to be in progress), which `check_ins` give: the goal's check-ins not entered in
    error, at least those since `trend_since` (the goal's detail keeps only its latest few)."""
    terms = goal.terms
    meta: Json = {"versionId": str(record.version), "lastUpdated": _instant(record)}
    resource: Json = {"resourceType": "Goal", "id": str(goal.goal_id), "meta": meta}
    resource["lifecycleStatus"] = LIFECYCLE[goal.status]
    if goal.status in _ASSESSED:
        code = _achievement(goal, today, check_ins)
        display = ACHIEVEMENT_DISPLAY[code]
        resource["achievementStatus"] = _coded(ACHIEVEMENT_SYSTEM, code, display)
    resource["description"] = {"text": terms.statement}
    target = _target(goal)
    if view == "shared":
        meta["tag"] = [SUBSETTED]
        resource["subject"] = {"type": "Patient", "display": "The client who shared this goal"}
        resource["target"] = [target]
        return resource
    resource["identifier"] = [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{goal.goal_id}"}]
    resource["category"] = [{"text": LIFE_AREAS[terms.life_area]}]
    code, display = PRIORITY[terms.priority]
    resource["priority"] = {**_coded(PRIORITY_SYSTEM, code, display), "text": terms.priority}
    resource["subject"] = {"reference": f"Patient/{goal.client_id}", "type": "Patient"}
    resource["startDate"] = terms.start_date.isoformat()
    resource["target"] = [target]
    local = record.status_since.astimezone(ZoneInfo(terms.time_zone))
    resource["statusDate"] = local.date().isoformat()
    reason = _status_reason(goal)
    if reason:
        resource["statusReason"] = reason
    if record.set_by is not None and record.set_by.role in _EXPRESSED_AS:
        resource["expressedBy"] = _reference(record.set_by)
    notes = [{"text": text} for text in _notes(goal) if text.strip()]
    if notes:
        resource["note"] = notes
    return resource


def history_resource(
    history: Sequence[tuple[GoalEvent, Stamp]], *, view: View = "full", today: date | None = None
) -> Json | None:
    """The Goal that a goal's events, oldest first with their stamps, make; None for none."""
    events = [event for event, _ in history]
    detail = goal_detail(events)
    record = goal_record(history)
    if detail is None or record is None:
        return None
    counted = counted_check_ins(events)
    return goal_resource(detail, record, view=view, today=today, check_ins=counted)


def counted_check_ins(events: Sequence[GoalEvent]) -> list[CountedCheckIn]:
    """A goal's check-ins not entered in error, from all of its events."""
    recorded: dict[UUID, CountedCheckIn] = {}
    for event in events:
        if isinstance(event, ProgressRecorded):
            recorded[event.check_in_id] = CountedCheckIn(event.amount, event.occurred_at)
        elif isinstance(event, CorrectionRecorded) and event.check_in_id is not None:
            recorded.pop(event.check_in_id, None)
    return list(recorded.values())


_PURSUED: frozenset[GoalStatus] = frozenset({"active", "paused"})
_TREND_PERIODS = 3


def trend_since(goal: GoalDetail, today: date) -> datetime | None:
    """From when a goal's check-ins count for its trend: the start of the earliest of its latest
    periods, a day early so that any time zone's midnight is inside; None if it shows no trend."""
    if goal.status not in _PURSUED:
        return None
    periods = series(goal.terms, [], today, periods=_TREND_PERIODS)
    if not periods:
        return None
    return datetime.combine(periods[0].start - timedelta(days=1), time(), UTC)


def _achievement(goal: GoalDetail, today: date | None, check_ins: Sequence[CountedCheckIn]) -> str:
    if today is None or goal.status not in _PURSUED:
        return achievement_status(goal.status, [], date.min)
    periods = series(goal.terms, check_ins, today, periods=_TREND_PERIODS)
    return achievement_status(goal.status, periods, today)


def _instant(record: GoalRecord) -> str:
    return record.last_updated.isoformat(timespec="milliseconds")


def _coded(system: str, code: str, display: str) -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _reference(author: Author) -> Json:
    kind = _EXPRESSED_AS[author.role]
    return {"reference": f"{kind}/{author.user_id}", "type": kind}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _detail(measure: Measure) -> tuple[str, object]:
    match measure.kind:
        case "duration_minutes":
            quantity = {"value": _number(measure.target), "unit": "min", "system": UCUM}
            return "detailQuantity", {**quantity, "code": "min"}
        case "rating_0_10" if float(measure.target).is_integer():
            return "detailInteger", int(measure.target)
        case "done" if measure.target == 1:
            return "detailBoolean", True
    return "detailQuantity", {"value": _number(measure.target), "unit": measure.unit}


def _timing(goal: GoalDetail) -> Json:
    measure, terms = goal.terms.measure, goal.terms
    # A count (or "done") per period is how often: "3 times a week"; minutes or a rating per
    # period happen once a period, to the amount in the target's detail.
    times = int(measure.target) if measure.kind in {"count", "done"} else 1
    if measure.cadence == "by_due_date":
        bounds = {"start": terms.start_date.isoformat(), "end": terms.due_date.isoformat()}
        repeat: Json = {"boundsPeriod": bounds}
        if measure.kind in {"count", "done"}:
            repeat["count"] = times
        return {"repeat": repeat}
    unit = PERIOD_UNITS[measure.cadence]
    return {"repeat": {"frequency": times, "period": 1, "periodUnit": unit}}


def _target(goal: GoalDetail) -> Json:
    measure = goal.terms.measure
    detail_key, detail = _detail(measure)
    return {
        "extension": [{"url": CADENCE_EXTENSION, "valueTiming": _timing(goal)}],
        "measure": {"text": f"{measure.unit} ({measure.kind.replace('_', ' ')})"},
        detail_key: detail,
        "dueDate": goal.terms.due_date.isoformat(),
    }


def _status_reason(goal: GoalDetail) -> str | None:
    if goal.status == "missed" and goal.reflection is not None:
        return MISS_CAUSES[goal.reflection.cause]
    if goal.status in {"paused", "cancelled", "entered_in_error"}:
        return goal.status_reason
    return None


def _notes(goal: GoalDetail) -> list[str]:
    terms = goal.terms
    notes = []
    if terms.cue:
        notes.append(f"Cue: {terms.cue}")
    if terms.values:
        notes.append("Values: " + ", ".join(terms.values))
    if goal.status == "achieved" and goal.achievement_note:
        notes.append(f"On achieving it: {goal.achievement_note}")
    if goal.status == "missed" and goal.reflection is not None and goal.reflection.words:
        notes.append(f"Reflection: {goal.reflection.words}")
    return notes
