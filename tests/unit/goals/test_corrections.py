from uuid import UUID

import pytest

from domain.goals.commands import GoalCommand
from domain.goals.events import CorrectionRecorded, GoalEvent, TermsChange
from domain.goals.state import Goal
from tests.unit.goals.builders import (
    CHECK_IN_ID,
    GOAL_ID,
    OTHER_CHECK_IN_ID,
    OTHER_SUPPORTER_ID,
    add_supporter,
    adjust_goal,
    cancel_goal,
    check_in_corrected,
    correct_check_in,
    correct_goal,
    given,
    goal_achieved,
    goal_cancelled,
    goal_corrected,
    goal_missed,
    goal_paused,
    goal_set,
    mark_achieved,
    pause_goal,
    progress_recorded,
    rate_goal,
    record_miss,
    record_progress,
    remove_supporter,
    resume_goal,
    set_goal,
    supporter_added,
)


def test_a_goal_is_marked_as_entered_in_error_and_keeps_its_history() -> None:
    state = (
        given(goal_set(), progress_recorded(), supporter_added())
        .when(correct_goal(reason="Wrong client"))
        .then(CorrectionRecorded(GOAL_ID, "goal", "Wrong client"))
    )

    assert isinstance(state, Goal)
    assert state.status == "entered_in_error"
    assert state.check_ins_recorded == 1


def test_a_check_in_is_marked_as_entered_in_error() -> None:
    state = (
        given(goal_set(), progress_recorded(), progress_recorded(OTHER_CHECK_IN_ID))
        .when(correct_check_in(CHECK_IN_ID, reason="Counted twice"))
        .then(CorrectionRecorded(GOAL_ID, "check_in", "Counted twice", CHECK_IN_ID))
    )

    assert isinstance(state, Goal)
    assert state.status == "active"
    assert state.check_ins_recorded == 2


@pytest.mark.parametrize(
    "status_event",
    [goal_paused(), goal_achieved(), goal_missed(), goal_cancelled()],
    ids=["paused", "achieved", "missed", "cancelled"],
)
def test_closed_goals_still_take_corrections(status_event: GoalEvent) -> None:
    history = (goal_set(), progress_recorded(), status_event)

    given(*history).when(correct_check_in()).then(check_in_corrected())
    given(*history).when(correct_goal()).then(goal_corrected())


@pytest.mark.parametrize(
    "correction", [correct_goal(reason=""), correct_check_in(reason=" ")], ids=["goal", "check-in"]
)
def test_a_correction_needs_a_reason(correction: GoalCommand) -> None:
    given(goal_set(), progress_recorded()).when(correction).then_rejected("text_required", "reason")


def test_a_correction_reason_longer_than_2000_characters_is_refused() -> None:
    given(goal_set()).when(correct_goal(reason="x" * 2001)).then_rejected("text_too_long", "reason")


def test_a_correction_of_the_whole_goal_names_no_check_in() -> None:
    given(goal_set(), progress_recorded()).when(
        correct_goal(check_in_id=CHECK_IN_ID)
    ).then_rejected("check_in_not_expected", "check_in_id")


@pytest.mark.parametrize(
    "check_in_id", [None, OTHER_CHECK_IN_ID], ids=["no check-in named", "unknown check-in"]
)
def test_a_check_in_correction_names_a_recorded_check_in(check_in_id: UUID | None) -> None:
    command = correct_check_in(check_in_id)

    given(goal_set(), progress_recorded()).when(command).then_rejected(
        "check_in_not_found", "check_in_id"
    )


def test_an_already_corrected_check_in_cannot_be_corrected_again() -> None:
    given(goal_set(), progress_recorded(), check_in_corrected()).when(
        correct_check_in()
    ).then_rejected("already_corrected", "check_in_id")


def test_other_check_ins_can_still_be_corrected_after_one_was() -> None:
    history = (
        goal_set(),
        progress_recorded(),
        progress_recorded(OTHER_CHECK_IN_ID),
        check_in_corrected(),
    )

    given(*history).when(correct_check_in(OTHER_CHECK_IN_ID)).then(
        check_in_corrected(OTHER_CHECK_IN_ID)
    )


# A goal entered in error accepts nothing more, not even another correction.
_AFTER_ERROR = [
    pytest.param(correct_goal(), id="correct goal"),
    pytest.param(correct_check_in(), id="correct check-in"),
    pytest.param(adjust_goal(TermsChange(priority="low")), id="adjust"),
    pytest.param(record_progress(check_in_id=OTHER_CHECK_IN_ID), id="record progress"),
    pytest.param(mark_achieved(), id="achieve"),
    pytest.param(record_miss(), id="miss"),
    pytest.param(pause_goal(), id="pause"),
    pytest.param(resume_goal(), id="resume"),
    pytest.param(cancel_goal(), id="cancel"),
    pytest.param(add_supporter(OTHER_SUPPORTER_ID), id="add supporter"),
    pytest.param(remove_supporter(), id="remove supporter"),
    pytest.param(rate_goal(), id="rate"),
]


@pytest.mark.parametrize("command", _AFTER_ERROR)
def test_a_goal_entered_in_error_accepts_nothing_more(command: GoalCommand) -> None:
    history = (goal_set(), progress_recorded(), supporter_added(), goal_corrected())

    violation = given(*history).when(command).then_rejected("goal_status_conflict")

    assert "entered in error" in violation.message


def test_a_goal_entered_in_error_cannot_be_set_again() -> None:
    given(goal_set(), goal_corrected()).when(set_goal()).then_rejected("goal_exists")
