"""The FHIR Goal a goal becomes: each status, each kind of event, each measure and cadence, and
random histories checked against an independent reading of the events. Every resource made here
is validated as R4B."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings

from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalAdjusted,
    GoalCancelled,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalResumed,
    GoalSet,
    TermsChange,
)
from domain.goals.fhir import (
    ACHIEVEMENT_SYSTEM,
    CADENCE_EXTENSION,
    View,
    counted_check_ins,
    goal_resource,
    history_resource,
    trend_since,
)
from domain.goals.record import goal_record
from domain.goals.view import goal_detail
from tests.fhir_validation import validate_fhir
from tests.unit.goals.builders import (
    CLIENT,
    CLIENT_ID,
    DUE,
    GOAL_ID,
    HISTORY_BY_STATUS,
    NOW,
    START,
    SUPPORTER_ID,
    ZONE,
    check_in_corrected,
    goal_achieved,
    goal_rated,
    goal_resumed,
    goal_set,
    measure,
    progress_recorded,
    supporter_added,
    terms,
)
from tests.unit.goals.fhir_histories import Stamped, first_event, stamp, stamped_histories

Json = dict[str, Any]


def resource_of(events: list[GoalEvent], *, view: View = "full", at: datetime = NOW) -> Json:
    history = [(event, stamp(n, at + timedelta(hours=n))) for n, event in enumerate(events, 1)]
    return resource_of_stamped(history, view=view)


def resource_of_stamped(history: list[Stamped], *, view: View = "full") -> Json:
    resource = history_resource(history, view=view)
    assert resource is not None
    # What the API and the webhooks send: the JSON of it, read back.
    decoded: Json = msgspec.json.decode(msgspec.json.encode(resource))
    return validate_fhir(decoded)


def achievement(resource: Json) -> str | None:
    concept = resource.get("achievementStatus")
    if concept is None:
        return None
    (coding,) = concept["coding"]
    assert coding["system"] == ACHIEVEMENT_SYSTEM
    return str(coding["code"])


@pytest.mark.parametrize(
    ("status", "lifecycle", "achieved", "reason"),
    [
        ("active", "active", "in-progress", None),
        ("paused", "on-hold", "in-progress", "Recovering from surgery"),
        ("achieved", "completed", "achieved", None),
        ("missed", "completed", "not-achieved", "Unexpected obstacles got in the way."),
        ("cancelled", "cancelled", None, "No longer relevant"),
        ("entered_in_error", "entered-in-error", None, "Set up for the wrong client"),
    ],
)
def test_each_status_maps_to_its_lifecycle_and_achievement(
    status: str, lifecycle: str, achieved: str | None, reason: str | None
) -> None:
    resource = resource_of(list(HISTORY_BY_STATUS[status]))
    assert resource["lifecycleStatus"] == lifecycle
    assert achievement(resource) == achieved
    assert resource.get("statusReason") == reason


def test_a_goal_as_set_carries_its_terms() -> None:
    resource = resource_of([goal_set()])
    assert resource["id"] == str(GOAL_ID)
    assert resource["meta"] == {"versionId": "1", "lastUpdated": "2025-03-10T10:00:00.000+00:00"}
    assert resource["description"] == {"text": "Walk for 30 minutes three times a week"}
    assert resource["subject"] == {"reference": f"Patient/{CLIENT_ID}", "type": "Patient"}
    assert resource["startDate"] == START.isoformat()
    assert resource["statusDate"] == "2025-03-10"
    assert resource["priority"]["coding"][0]["code"] == "high-priority"
    assert resource["category"] == [{"text": "Physical health"}]
    assert resource["expressedBy"]["reference"].startswith("Practitioner/")
    (target,) = resource["target"]
    assert target["dueDate"] == DUE.isoformat()
    assert target["detailQuantity"] == {"value": 3, "unit": "walks"}
    assert target["extension"] == [
        {
            "url": CADENCE_EXTENSION,
            "valueTiming": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "wk"}},
        }
    ]
    assert [note["text"] for note in resource["note"]] == [
        "Cue: After breakfast",
        "Values: health, energy",
    ]


def test_a_goal_the_client_set_is_expressed_by_the_patient() -> None:
    history: list[Stamped] = [(goal_set(), stamp(1, actor=CLIENT))]
    resource = resource_of_stamped(history)
    assert resource["expressedBy"] == {"reference": f"Patient/{CLIENT_ID}", "type": "Patient"}


@pytest.mark.parametrize(
    ("kind", "target", "cadence", "detail", "repeat"),
    [
        ("count", 3, "per_week", ("detailQuantity", {"value": 3, "unit": "u"}), {"frequency": 3}),
        (
            "duration_minutes",
            150,
            "per_week",
            (
                "detailQuantity",
                {"value": 150, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min"},
            ),
            {"frequency": 1},
        ),
        ("rating_0_10", 7, "per_day", ("detailInteger", 7), {"frequency": 1, "periodUnit": "d"}),
        ("rating_0_10", 7.5, "per_month", ("detailQuantity", {"value": 7.5, "unit": "u"}), {}),
        ("done", 1, "per_day", ("detailBoolean", True), {"frequency": 1, "periodUnit": "d"}),
        ("done", 2, "per_month", ("detailQuantity", {"value": 2, "unit": "u"}), {"frequency": 2}),
    ],
)
def test_each_measure_becomes_a_target_detail_and_a_timing(
    kind: str, target: float, cadence: str, detail: tuple[str, object], repeat: Json
) -> None:
    goal = goal_set(
        terms=terms(measure=measure(kind=kind, target=target, unit="u", cadence=cadence))
    )
    (made,) = resource_of([goal])["target"]
    key, value = detail
    assert made[key] == value
    timing = made["extension"][0]["valueTiming"]["repeat"]
    assert timing.items() >= repeat.items()
    assert timing["periodUnit"] == {"per_day": "d", "per_week": "wk", "per_month": "mo"}[cadence]


def test_a_target_by_the_due_date_repeats_within_the_goals_span() -> None:
    goal = goal_set(terms=terms(measure=measure(target=12, cadence="by_due_date")))
    (made,) = resource_of([goal])["target"]
    assert made["extension"][0]["valueTiming"] == {
        "repeat": {
            "boundsPeriod": {"start": START.isoformat(), "end": DUE.isoformat()},
            "count": 12,
        }
    }


@pytest.mark.parametrize(
    ("per_week", "trend"),
    [((1, 2), "improving"), ((2, 1), "worsening"), ((2, 2), "no-change"), ((0, 0), "no-change")],
)
def test_given_today_a_pursued_goal_shows_its_trend(per_week: tuple[int, int], trend: str) -> None:
    first_week, second_week = per_week
    days = [START + timedelta(days=1)] * first_week + [START + timedelta(days=8)] * second_week
    check_ins = [
        progress_recorded(
            check_in_id=UUID(int=n + 1),
            occurred_at=datetime.combine(day, time(12), tzinfo=UTC),
        )
        for n, day in enumerate(days)
    ]
    events: list[GoalEvent] = [goal_set(), *check_ins]
    detail = goal_detail(events)
    record = goal_record([(goal_set(), stamp(1))])
    assert detail is not None
    assert record is not None
    in_week_three = START + timedelta(days=15)
    counted = counted_check_ins(events)
    with_trend = validate_fhir(
        goal_resource(detail, record, today=in_week_three, check_ins=counted)
    )
    assert achievement(with_trend) == trend
    assert achievement(validate_fhir(goal_resource(detail, record))) == "in-progress"
    if per_week == (2, 2):
        # A check-in entered in error counts for nothing: the first week falls to 1.
        corrected_events = [*events, check_in_corrected(UUID(int=1))]
        corrected = goal_detail(corrected_events)
        assert corrected is not None
        recounted = counted_check_ins(corrected_events)
        resource = goal_resource(corrected, record, today=in_week_three, check_ins=recounted)
        assert achievement(resource) == "improving"


def test_a_trend_counts_every_check_in_of_its_periods_however_many() -> None:
    """More check-ins in the latest weeks than a goal's detail keeps: all of them count."""
    days = [START + timedelta(days=1)] * 11 + [START + timedelta(days=8)] * 10
    events: list[GoalEvent] = [
        goal_set(),
        *(
            progress_recorded(
                check_in_id=UUID(int=n + 1), occurred_at=datetime.combine(day, time(12), tzinfo=UTC)
            )
            for n, day in enumerate(days)
        ),
    ]
    resource = history_resource(
        [(event, stamp(n + 1)) for n, event in enumerate(events)], today=START + timedelta(days=15)
    )

    assert resource is not None
    assert achievement(resource) == "worsening"
    detail = goal_detail(events)
    assert detail is not None
    since = trend_since(detail, START + timedelta(days=15))
    assert since is not None
    assert all(item.occurred_at >= since for item in counted_check_ins(events))


# Each event's effect, beyond the status table above: what it changes in the resource.
def test_an_adjustment_changes_the_target_and_keeps_the_status_date() -> None:
    change = TermsChange(priority="low", due_date=DUE + timedelta(days=7), cue=None)
    before = resource_of([goal_set()])
    after = resource_of([goal_set(), GoalAdjusted(GOAL_ID, TermsChange(), change, "More time")])
    assert after["priority"]["coding"][0]["code"] == "low-priority"
    assert after["target"][0]["dueDate"] == (DUE + timedelta(days=7)).isoformat()
    assert [note["text"] for note in after["note"]] == ["Values: health, energy"]
    assert after["statusDate"] == before["statusDate"]
    assert after["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    "event",
    [
        progress_recorded(),
        supporter_added(),
        goal_rated(2, "Beyond what we hoped"),
    ],
    ids=lambda event: type(event).__name__,
)
def test_events_that_leave_the_goal_as_it_was_move_only_its_version(event: GoalEvent) -> None:
    before = resource_of([goal_set()])
    after = resource_of([goal_set(), event])
    assert after["meta"]["versionId"] == "2"
    assert after["meta"]["lastUpdated"] > before["meta"]["lastUpdated"]
    assert {**after, "meta": None} == {**before, "meta": None}


def test_a_corrected_check_in_leaves_the_goal_as_it_was() -> None:
    with_check_in = resource_of([goal_set(), progress_recorded()])
    corrected = resource_of([goal_set(), progress_recorded(), check_in_corrected()])
    assert {**corrected, "meta": None} == {**with_check_in, "meta": None}


def test_resuming_restores_active_and_dates_the_resumption() -> None:
    history = [*HISTORY_BY_STATUS["paused"], goal_resumed()]
    resource = resource_of(history, at=datetime(2025, 3, 10, 22, 30, tzinfo=UTC))
    assert resource["lifecycleStatus"] == "active"
    assert "statusReason" not in resource
    # The third event is at 01:30 UTC on the 11th: the client's Berlin day is the 11th too.
    assert resource["statusDate"] == "2025-03-11"


def test_the_status_date_is_the_clients_local_day() -> None:
    late = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)  # already the 11th in Berlin
    history: list[Stamped] = [(goal_set(), stamp(1, late))]
    assert ZONE == "Europe/Berlin"
    assert resource_of_stamped(history)["statusDate"] == "2025-03-11"


def test_an_achievement_note_and_a_reflection_become_notes() -> None:
    achieved = resource_of([goal_set(), GoalAchieved(GOAL_ID, "Walked every week")])
    assert achieved["note"][-1] == {"text": "On achieving it: Walked every week"}
    missed = resource_of([goal_set(), GoalMissed(GOAL_ID, "unrealistic", "Too much at once")])
    assert missed["note"][-1] == {"text": "Reflection: Too much at once"}
    assert missed["statusReason"] == "The goal asked more than was realistic for now."


def test_a_shared_view_leaves_out_the_client_and_what_is_private() -> None:
    history: list[GoalEvent] = [
        goal_set(),
        supporter_added(),
        GoalMissed(GOAL_ID, "obstacles", "Money worries"),
    ]
    resource = resource_of(history, view="shared")
    text = msgspec.json.encode(resource).decode()
    assert str(CLIENT_ID) not in text
    assert "Money worries" not in text
    assert str(SUPPORTER_ID) not in text
    assert set(resource) == {
        "resourceType",
        "id",
        "meta",
        "lifecycleStatus",
        "achievementStatus",
        "description",
        "subject",
        "target",
    }
    assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"


# --- any history -------------------------------------------------------------------------------

_STATUS_OF = {
    GoalSet: ("active", "in-progress"),
    GoalResumed: ("active", "in-progress"),
    GoalPaused: ("on-hold", "in-progress"),
    GoalAchieved: ("completed", "achieved"),
    GoalMissed: ("completed", "not-achieved"),
    GoalCancelled: ("cancelled", None),
}


def _last_status_change(history: list[Stamped]) -> tuple[tuple[str, str | None], datetime]:
    """An independent reading: the status the last status-changing event left, and when."""
    found: tuple[tuple[str, str | None], datetime] | None = None
    for event, stamped in history:
        if isinstance(event, CorrectionRecorded) and event.scope == "goal":
            found = (("entered-in-error", None), stamped.recorded_at)
        elif type(event) in _STATUS_OF:
            found = (_STATUS_OF[type(event)], stamped.recorded_at)
    assert found is not None
    return found


def _latest_terms_target(history: list[Stamped]) -> tuple[date, float]:
    first = first_event(history)
    due, target = first.terms.due_date, first.terms.measure.target
    for event, _ in history:
        if isinstance(event, GoalAdjusted):
            if isinstance(event.after.due_date, date):
                due = event.after.due_date
            if not isinstance(event.after.measure, msgspec.UnsetType):
                target = event.after.measure.target
    return due, target


@settings(max_examples=150, deadline=None)
@given(stamped_histories())
def test_any_history_maps_to_a_valid_goal_that_reads_its_events(history: list[Stamped]) -> None:
    resource = resource_of_stamped(history)
    (lifecycle, achieved), changed_at = _last_status_change(history)
    assert resource["lifecycleStatus"] == lifecycle
    assert achievement(resource) == achieved
    local_day = changed_at.astimezone(ZoneInfo(ZONE)).date()
    assert resource["statusDate"] == local_day.isoformat()
    last = history[-1][1]
    assert resource["meta"]["versionId"] == str(last.version)
    assert resource["meta"]["lastUpdated"].startswith(last.recorded_at.isoformat()[:19])
    due, target = _latest_terms_target(history)
    (made,) = resource["target"]
    assert made["dueDate"] == due.isoformat()
    value = made.get("detailQuantity", {}).get("value", made.get("detailInteger", 1))
    assert value == target
    setter = history[0][1]
    assert ("expressedBy" in resource) == (setter.actor_id is not None)


@settings(max_examples=100, deadline=None)
@given(stamped_histories())
def test_any_shared_view_is_valid_and_names_no_one(history: list[Stamped]) -> None:
    resource = resource_of_stamped(history, view="shared")
    text = msgspec.json.encode(resource).decode()
    assert str(CLIENT_ID) not in text
    assert all(str(stamped.actor_id) not in text for _, stamped in history if stamped.actor_id)
    assert not {"note", "statusReason", "expressedBy", "priority"} & set(resource)


def test_the_goals_first_event_is_the_one_that_sets_it() -> None:
    with pytest.raises(ValueError, match="goal_set"):
        goal_record([(goal_achieved(), stamp(1))])
    with pytest.raises(ValueError, match="set once"):
        goal_record([(goal_set(), stamp(1)), (goal_set(), stamp(2))])
    assert goal_record([]) is None
    assert history_resource([]) is None
