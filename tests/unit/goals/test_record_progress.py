from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.goals.events import GoalAdjusted, ProgressRecorded, TermsChange
from domain.goals.state import Goal
from tests.unit.goals.builders import (
    CHECK_IN_AT,
    CHECK_IN_ID,
    GOAL_ID,
    HISTORY_BY_STATUS,
    NOW,
    OTHER_CHECK_IN_ID,
    given,
    goal_paused,
    goal_resumed,
    goal_set,
    measure,
    progress_recorded,
    record_progress,
    terms,
)


def test_a_check_in_is_recorded_and_remembered_by_the_goal() -> None:
    command = record_progress(amount=2.0, note="Felt great")

    state = (
        given(goal_set())
        .when(command)
        .then(ProgressRecorded(GOAL_ID, CHECK_IN_ID, 2.0, CHECK_IN_AT, "Felt great"))
    )

    assert isinstance(state, Goal)
    assert state.check_ins_recorded == 1


def test_check_ins_accumulate() -> None:
    state = (
        given(goal_set(), progress_recorded(CHECK_IN_ID))
        .when(record_progress(check_in_id=OTHER_CHECK_IN_ID))
        .then(progress_recorded(OTHER_CHECK_IN_ID))
    )

    assert isinstance(state, Goal)
    assert state.check_ins_recorded == 2


def test_a_resumed_goal_takes_check_ins_again() -> None:
    given(goal_set(), goal_paused(), goal_resumed()).when(record_progress()).then(
        progress_recorded()
    )


@pytest.mark.parametrize(
    "status", ["paused", "achieved", "missed", "cancelled", "entered_in_error"]
)
def test_only_an_active_goal_takes_check_ins(status: str) -> None:
    violation = (
        given(*HISTORY_BY_STATUS[status])
        .when(record_progress())
        .then_rejected("goal_status_conflict")
    )

    assert "checked in on" in violation.message


def test_the_status_is_checked_before_the_check_in_itself() -> None:
    given(goal_set(), goal_paused()).when(record_progress(amount=-1.0)).then_rejected(
        "goal_status_conflict"
    )


# --- amounts ---------------------------------------------------------------------------------

ACCEPTED_AMOUNTS = [
    ("count", 1.0),
    ("count", 250.0),
    ("count", 2),
    ("done", 1.0),
    ("done", 1),
    ("duration_minutes", 0.5),
    ("duration_minutes", 1440.0),
    ("rating_0_10", 0.0),
    ("rating_0_10", 7.5),
    ("rating_0_10", 10.0),
]

REFUSED_AMOUNTS = [
    ("count", float("nan"), "amount_invalid"),
    ("rating_0_10", float("inf"), "amount_invalid"),
    ("duration_minutes", float("-inf"), "amount_invalid"),
    ("count", 0.0, "amount_not_positive"),
    ("count", -2.0, "amount_not_positive"),
    ("done", 0.0, "amount_not_positive"),
    ("duration_minutes", 0.0, "amount_not_positive"),
    ("count", 1.5, "amount_not_whole"),
    ("done", 0.5, "amount_not_whole"),
    ("done", 2.0, "amount_out_of_range"),
    ("duration_minutes", 1440.5, "amount_out_of_range"),
    ("rating_0_10", -0.5, "amount_out_of_range"),
    ("rating_0_10", 10.5, "amount_out_of_range"),
    ("count", 10_001.0, "amount_out_of_range"),
    ("count", 1e20, "amount_out_of_range"),
    ("count", float(2**63), "amount_out_of_range"),
    ("duration_minutes", 1e308, "amount_out_of_range"),
]


@pytest.mark.parametrize(("kind", "amount"), ACCEPTED_AMOUNTS, ids=repr)
def test_amounts_that_fit_the_measure_are_accepted(kind: str, amount: float) -> None:
    history = goal_set(terms=terms(measure=measure(kind=kind, target=5.0)))

    given(history).when(record_progress(amount=amount)).then(progress_recorded(amount=amount))


@pytest.mark.parametrize(("kind", "amount", "code"), REFUSED_AMOUNTS, ids=repr)
def test_amounts_that_do_not_fit_the_measure_are_refused(
    kind: str, amount: float, code: str
) -> None:
    history = goal_set(terms=terms(measure=measure(kind=kind, target=5.0)))

    given(history).when(record_progress(amount=amount)).then_rejected(code, "amount")


# --- time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "occurred_at",
    [
        pytest.param(NOW, id="now"),
        pytest.param(NOW + timedelta(minutes=5), id="five minutes of clock skew"),
        pytest.param(
            datetime(2025, 3, 10, 14, 0, tzinfo=timezone(timedelta(hours=5))),
            id="an earlier instant written with another offset",
        ),
    ],
)
def test_check_ins_up_to_five_minutes_ahead_are_accepted(occurred_at: datetime) -> None:
    given(goal_set()).when(record_progress(occurred_at=occurred_at)).then(
        progress_recorded(occurred_at=occurred_at)
    )


@pytest.mark.parametrize(
    "occurred_at",
    [
        pytest.param(NOW + timedelta(minutes=5, microseconds=1), id="just past the skew"),
        pytest.param(NOW + timedelta(days=1), id="tomorrow"),
    ],
)
def test_check_ins_from_the_future_are_refused(occurred_at: datetime) -> None:
    given(goal_set()).when(record_progress(occurred_at=occurred_at)).then_rejected(
        "check_in_in_future", "occurred_at"
    )


@pytest.mark.parametrize(
    "occurred_at",
    [
        pytest.param(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), id="before year 1"),
        pytest.param(
            datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), id="past year 9999"
        ),
    ],
)
def test_a_check_in_time_whose_offset_leaves_the_calendar_is_refused(
    occurred_at: datetime,
) -> None:
    given(goal_set()).when(record_progress(occurred_at=occurred_at)).then_rejected(
        "time_out_of_range", "occurred_at"
    )


def test_a_check_in_time_needs_its_utc_offset() -> None:
    naive = CHECK_IN_AT.replace(tzinfo=None)

    given(goal_set()).when(record_progress(occurred_at=naive)).then_rejected(
        "time_without_zone", "occurred_at"
    )


def test_a_check_in_from_before_the_start_date_is_refused() -> None:
    # START is 3 March; this is 2 March 12:00 in Berlin.
    before_start = datetime(2025, 3, 2, 11, 0, tzinfo=UTC)

    given(goal_set()).when(record_progress(occurred_at=before_start)).then_rejected(
        "check_in_before_start", "occurred_at"
    )


@pytest.mark.parametrize(
    ("zone", "start", "occurred_at", "accepted"),
    [
        # Auckland is UTC+13 in March: 23:30 UTC the day before is 12:30 on the start day.
        pytest.param(
            "Pacific/Auckland",
            date(2025, 3, 10),
            datetime(2025, 3, 9, 23, 30, tzinfo=UTC),
            True,
            id="Auckland: start day locally, day before in UTC",
        ),
        pytest.param(
            "Pacific/Auckland",
            date(2025, 3, 10),
            datetime(2025, 3, 9, 10, 59, tzinfo=UTC),
            False,
            id="Auckland: 23:59 the day before locally",
        ),
        pytest.param(
            "Pacific/Auckland",
            date(2025, 3, 10),
            datetime(2025, 3, 9, 11, 0, tzinfo=UTC),
            True,
            id="Auckland: local midnight of the start day",
        ),
        # Los Angeles is UTC-7 from 9 March: 05:00 UTC on the start day is still the day before.
        pytest.param(
            "America/Los_Angeles",
            date(2025, 3, 10),
            datetime(2025, 3, 10, 5, 0, tzinfo=UTC),
            False,
            id="Los Angeles: start day in UTC, day before locally",
        ),
        pytest.param(
            "America/Los_Angeles",
            date(2025, 3, 10),
            datetime(2025, 3, 10, 7, 0, tzinfo=UTC),
            True,
            id="Los Angeles: local midnight of the start day",
        ),
        # Berlin moves to UTC+2 at 01:00 UTC on 30 March; the night before is still UTC+1.
        pytest.param(
            "Europe/Berlin",
            date(2025, 3, 30),
            datetime(2025, 3, 29, 23, 0, tzinfo=UTC),
            True,
            id="Berlin: midnight on the day clocks go forward",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2025, 3, 30),
            datetime(2025, 3, 29, 22, 59, tzinfo=UTC),
            False,
            id="Berlin: one minute before that midnight",
        ),
        # Auckland moves from UTC+13 to UTC+12 at 14:00 UTC on 5 April; midnight is still +13.
        pytest.param(
            "Pacific/Auckland",
            date(2025, 4, 6),
            datetime(2025, 4, 5, 11, 0, tzinfo=UTC),
            True,
            id="Auckland: midnight on the day clocks go back",
        ),
        pytest.param(
            "Pacific/Auckland",
            date(2025, 4, 6),
            datetime(2025, 4, 5, 10, 59, tzinfo=UTC),
            False,
            id="Auckland: one minute before that midnight",
        ),
    ],
)
def test_the_start_date_is_compared_with_the_local_date_in_the_goals_zone(
    zone: str, start: date, occurred_at: datetime, accepted: bool
) -> None:
    now = datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
    history = goal_set(terms=terms(time_zone=zone, start_date=start, due_date=date(2025, 6, 30)))
    scenario = given(history).when(record_progress(occurred_at=occurred_at, now=now))

    if accepted:
        scenario.then(progress_recorded(occurred_at=occurred_at))
    else:
        scenario.then_rejected("check_in_before_start", "occurred_at")


def test_a_check_in_follows_a_time_zone_adjustment() -> None:
    # 22:30 UTC on 2 March is 23:30 that day in Berlin but already 3 March (the start day)
    # in Auckland.
    occurred_at = datetime(2025, 3, 2, 22, 30, tzinfo=UTC)
    moved = GoalAdjusted(
        GOAL_ID,
        TermsChange(time_zone="Europe/Berlin"),
        TermsChange(time_zone="Pacific/Auckland"),
        "Moved to New Zealand",
    )

    given(goal_set()).when(record_progress(occurred_at=occurred_at)).then_rejected(
        "check_in_before_start", "occurred_at"
    )
    given(goal_set(), moved).when(record_progress(occurred_at=occurred_at)).then(
        progress_recorded(occurred_at=occurred_at)
    )


def test_check_ins_after_the_due_date_are_still_accepted() -> None:
    history = goal_set(terms=terms(start_date=date(2025, 1, 1), due_date=date(2025, 2, 1)))

    given(history).when(record_progress()).then(progress_recorded())


# --- note ------------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "x" * 2000])
def test_a_note_is_optional_text_up_to_2000_characters(note: str) -> None:
    given(goal_set()).when(record_progress(note=note)).then(
        ProgressRecorded(GOAL_ID, CHECK_IN_ID, 1.0, CHECK_IN_AT, note)
    )


def test_a_note_longer_than_2000_characters_is_refused() -> None:
    given(goal_set()).when(record_progress(note="x" * 2001)).then_rejected("text_too_long", "note")
