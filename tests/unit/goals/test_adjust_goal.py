from datetime import date

import pytest

from domain.goals.events import GoalAdjusted, TermsChange
from domain.goals.state import Goal
from tests.unit.goals.builders import (
    GOAL_ID,
    HISTORY_BY_STATUS,
    adjust_goal,
    check_in_corrected,
    given,
    goal_paused,
    goal_set,
    measure,
    progress_recorded,
    terms,
)


def test_adjusting_records_before_and_after_of_the_changed_fields_only() -> None:
    changes = TermsChange(
        statement="Walk for 30 minutes four times a week",
        measure=measure(target=4.0),
        priority="high",  # already high: not a change
        cue="After breakfast",  # unchanged as well
    )

    state = (
        given(goal_set())
        .when(adjust_goal(changes, reason="Going well"))
        .then(
            GoalAdjusted(
                GOAL_ID,
                before=TermsChange(
                    statement="Walk for 30 minutes three times a week",
                    measure=measure(target=3.0),
                ),
                after=TermsChange(
                    statement="Walk for 30 minutes four times a week",
                    measure=measure(target=4.0),
                ),
                reason="Going well",
            )
        )
    )

    assert isinstance(state, Goal)
    assert state.terms == terms(
        statement="Walk for 30 minutes four times a week", measure=measure(target=4.0)
    )


def test_clearing_the_cue_records_none_as_its_new_value() -> None:
    state = (
        given(goal_set())
        .when(adjust_goal(TermsChange(cue=None)))
        .then(
            GoalAdjusted(
                GOAL_ID,
                before=TermsChange(cue="After breakfast"),
                after=TermsChange(cue=None),
                reason="Agreed in session",
            )
        )
    )

    assert isinstance(state, Goal)
    assert state.terms == terms(cue=None)


def test_every_adjustable_field_can_change_at_once() -> None:
    after = TermsChange(
        statement="Meditate daily",
        life_area="mental_health",
        values=("calm",),
        measure=measure(kind="duration_minutes", target=10.0, unit="minutes", cadence="per_day"),
        cue="Before bed",
        due_date=date(2025, 9, 30),
        priority="low",
        time_zone="Pacific/Auckland",
    )

    state = (
        given(goal_set())
        .when(adjust_goal(after))
        .then(
            GoalAdjusted(
                GOAL_ID,
                before=TermsChange(
                    statement="Walk for 30 minutes three times a week",
                    life_area="physical_health",
                    values=("health", "energy"),
                    measure=measure(),
                    cue="After breakfast",
                    due_date=date(2025, 6, 30),
                    priority="high",
                    time_zone="Europe/Berlin",
                ),
                after=after,
                reason="Agreed in session",
            )
        )
    )

    assert isinstance(state, Goal)
    assert state.terms == terms(
        statement="Meditate daily",
        life_area="mental_health",
        values=("calm",),
        measure=measure(kind="duration_minutes", target=10.0, unit="minutes", cadence="per_day"),
        cue="Before bed",
        due_date=date(2025, 9, 30),
        priority="low",
        time_zone="Pacific/Auckland",
    )
    assert state.status == "active"


def test_a_paused_goal_can_be_adjusted_and_stays_paused() -> None:
    state = (
        given(goal_set(), goal_paused())
        .when(adjust_goal(TermsChange(priority="low")))
        .then(
            GoalAdjusted(
                GOAL_ID,
                TermsChange(priority="high"),
                TermsChange(priority="low"),
                "Agreed in session",
            )
        )
    )

    assert isinstance(state, Goal)
    assert state.status == "paused"
    assert state.terms.priority == "low"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(TermsChange(), id="no fields"),
        pytest.param(
            TermsChange(priority="high", measure=measure(), values=("health", "energy")),
            id="same values",
        ),
    ],
)
def test_changes_that_match_the_goal_as_it_is_are_refused(changes: TermsChange) -> None:
    given(goal_set()).when(adjust_goal(changes)).then_rejected("nothing_to_adjust", "changes")


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "text_required"), ("  ", "text_required"), ("x" * 2001, "text_too_long")],
)
def test_an_adjustment_needs_a_reason(reason: str, code: str) -> None:
    command = adjust_goal(TermsChange(priority="low"), reason=reason)

    given(goal_set()).when(command).then_rejected(code, "reason")


def test_a_reason_of_2000_characters_is_accepted() -> None:
    reason = "x" * 2000

    given(goal_set()).when(adjust_goal(TermsChange(priority="low"), reason=reason)).then(
        GoalAdjusted(GOAL_ID, TermsChange(priority="high"), TermsChange(priority="low"), reason)
    )


@pytest.mark.parametrize("status", ["achieved", "missed", "cancelled", "entered_in_error"])
def test_only_active_or_paused_goals_can_be_adjusted(status: str) -> None:
    given(*HISTORY_BY_STATUS[status]).when(adjust_goal(TermsChange(priority="low"))).then_rejected(
        "goal_status_conflict"
    )


def test_the_measure_kind_is_locked_once_check_ins_exist() -> None:
    rating = measure(kind="rating_0_10", target=8.0, unit="mood")

    given(goal_set(), progress_recorded()).when(
        adjust_goal(TermsChange(measure=rating))
    ).then_rejected("measure_kind_locked", "changes.measure.kind")


def test_the_measure_kind_stays_locked_after_every_check_in_was_corrected() -> None:
    rating = measure(kind="rating_0_10", target=8.0, unit="mood")

    given(goal_set(), progress_recorded(), check_in_corrected()).when(
        adjust_goal(TermsChange(measure=rating))
    ).then_rejected("measure_kind_locked", "changes.measure.kind")


def test_the_measure_kind_can_change_before_any_check_in() -> None:
    rating = measure(kind="rating_0_10", target=8.0, unit="mood")

    given(goal_set()).when(adjust_goal(TermsChange(measure=rating))).then(
        GoalAdjusted(
            GOAL_ID,
            TermsChange(measure=measure()),
            TermsChange(measure=rating),
            "Agreed in session",
        )
    )


def test_target_and_unit_can_change_after_check_ins_within_the_same_kind() -> None:
    more = measure(target=5.0, unit="long walks")
    given(goal_set(), progress_recorded()).when(adjust_goal(TermsChange(measure=more))).then(
        GoalAdjusted(
            GOAL_ID, TermsChange(measure=measure()), TermsChange(measure=more), "Agreed in session"
        )
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param(
            TermsChange(statement="no"), "statement_length", "changes.statement", id="statement"
        ),
        pytest.param(
            TermsChange(values=tuple(str(n) for n in range(11))),
            "too_many_values",
            "changes.values",
            id="values",
        ),
        pytest.param(TermsChange(cue=" "), "text_required", "changes.cue", id="cue"),
        pytest.param(
            TermsChange(measure=measure(target=-3.0)),
            "target_not_positive",
            "changes.measure.target",
            id="target",
        ),
        pytest.param(
            TermsChange(measure=measure(target=3.5)),
            "target_not_whole",
            "changes.measure.target",
            id="whole target",
        ),
        pytest.param(
            TermsChange(measure=measure(unit="")),
            "text_required",
            "changes.measure.unit",
            id="unit",
        ),
        pytest.param(
            TermsChange(time_zone="Berlin"), "unknown_time_zone", "changes.time_zone", id="zone"
        ),
        pytest.param(
            TermsChange(due_date=date(2025, 3, 3)),
            "due_before_start",
            "changes.due_date",
            id="due on start day",
        ),
        pytest.param(
            TermsChange(due_date=date(2030, 3, 11)),
            "due_too_far",
            "changes.due_date",
            id="due too far",
        ),
    ],
)
def test_adjusted_terms_obey_the_same_rules_as_new_ones(
    changes: TermsChange, code: str, field: str
) -> None:
    given(goal_set()).when(adjust_goal(changes)).then_rejected(code, field)


def test_a_kind_change_with_check_ins_is_reported_before_invalid_new_terms() -> None:
    broken_rating = measure(kind="rating_0_10", target=80.0, unit="mood")

    given(goal_set(), progress_recorded()).when(
        adjust_goal(TermsChange(measure=broken_rating))
    ).then_rejected("measure_kind_locked", "changes.measure.kind")
