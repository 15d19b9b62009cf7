"""Achieve, miss, pause, resume and cancel, and which commands each status allows."""

import pytest

from domain.goals.commands import GoalCommand
from domain.goals.events import (
    GoalAchieved,
    GoalAdjusted,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalResumed,
    SupporterAdded,
    SupporterRemoved,
    TermsChange,
)
from domain.goals.state import Goal
from domain.goals.terms import GoalStatus, MissCause
from tests.unit.goals.builders import (
    GOAL_ID,
    OTHER_CHECK_IN_ID,
    OTHER_SUPPORTER_ID,
    SUPPORTER_ID,
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
    goal_rated,
    goal_resumed,
    goal_set,
    mark_achieved,
    pause_goal,
    progress_recorded,
    rate_goal,
    record_miss,
    record_progress,
    remove_supporter,
    resume_goal,
    supporter_added,
)


def _status_after(*events: GoalEvent) -> GoalStatus:
    state = given(*events).state
    assert isinstance(state, Goal)
    return state.status


# --- achieve ---------------------------------------------------------------------------------


def test_an_active_goal_is_marked_achieved_with_an_optional_note() -> None:
    state = (
        given(goal_set()).when(mark_achieved(note="Did it!")).then(GoalAchieved(GOAL_ID, "Did it!"))
    )

    assert isinstance(state, Goal)
    assert state.status == "achieved"


def test_a_paused_goal_can_be_marked_achieved() -> None:
    given(goal_set(), goal_paused()).when(mark_achieved()).then(GoalAchieved(GOAL_ID))
    assert _status_after(goal_set(), goal_paused(), goal_achieved()) == "achieved"


def test_an_achievement_note_longer_than_2000_characters_is_refused() -> None:
    given(goal_set()).when(mark_achieved(note="x" * 2001)).then_rejected("text_too_long", "note")


# --- miss ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cause", ["unrealistic", "obstacles", "misaligned_with_values", "other"])
def test_a_goal_is_closed_as_missed_with_cause_and_reflection(cause: MissCause) -> None:
    command = record_miss(cause=cause, reflection="Too ambitious for winter")

    state = (
        given(goal_set())
        .when(command)
        .then(GoalMissed(GOAL_ID, command.cause, "Too ambitious for winter"))
    )

    assert isinstance(state, Goal)
    assert state.status == "missed"


def test_a_paused_goal_can_be_closed_as_missed() -> None:
    given(goal_set(), goal_paused()).when(record_miss()).then(goal_missed())


def test_the_reflection_may_be_left_empty() -> None:
    given(goal_set()).when(record_miss(reflection="")).then(GoalMissed(GOAL_ID, "obstacles", ""))


def test_a_reflection_longer_than_2000_characters_is_refused() -> None:
    given(goal_set()).when(record_miss(reflection="x" * 2001)).then_rejected(
        "text_too_long", "reflection"
    )


# --- pause and resume ------------------------------------------------------------------------


def test_pausing_and_resuming_moves_between_paused_and_active() -> None:
    paused = given(goal_set()).when(pause_goal("Holiday")).then(GoalPaused(GOAL_ID, "Holiday"))
    assert isinstance(paused, Goal)
    assert paused.status == "paused"

    resumed = given(goal_set(), goal_paused()).when(resume_goal()).then(GoalResumed(GOAL_ID))
    assert isinstance(resumed, Goal)
    assert resumed.status == "active"


@pytest.mark.parametrize(
    ("reason", "code"), [(" ", "text_required"), ("x" * 2001, "text_too_long")]
)
def test_a_pause_needs_a_reason(reason: str, code: str) -> None:
    given(goal_set()).when(pause_goal(reason)).then_rejected(code, "reason")


def test_a_paused_goal_cannot_be_paused_again() -> None:
    given(goal_set(), goal_paused()).when(pause_goal()).then_rejected("goal_status_conflict")


def test_an_active_goal_cannot_be_resumed() -> None:
    violation = given(goal_set()).when(resume_goal()).then_rejected("goal_status_conflict")

    assert violation.message == "This goal is active, so it cannot be resumed."


def test_a_goal_can_be_paused_again_after_resuming() -> None:
    given(goal_set(), goal_paused(), goal_resumed()).when(pause_goal()).then(goal_paused())


# --- cancel ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status_events", [(), (goal_paused(),)], ids=["active", "paused"])
def test_an_open_goal_can_be_cancelled(status_events: tuple[GoalEvent, ...]) -> None:
    state = given(goal_set(), *status_events).when(cancel_goal()).then(goal_cancelled())

    assert isinstance(state, Goal)
    assert state.status == "cancelled"


@pytest.mark.parametrize(("reason", "code"), [("", "text_required"), ("x" * 2001, "text_too_long")])
def test_a_cancellation_needs_a_reason(reason: str, code: str) -> None:
    given(goal_set()).when(cancel_goal(reason)).then_rejected(code, "reason")


# --- which status allows which command -------------------------------------------------------

# Every history has a check-in and a supporter, so that correcting the check-in and removing the
# supporter are refused only because of the status.
_OPENING: tuple[GoalEvent, ...] = (goal_set(), progress_recorded(), supporter_added())
_STATUS_EVENTS: dict[GoalStatus, tuple[GoalEvent, ...]] = {
    "active": (),
    "paused": (goal_paused(),),
    "achieved": (goal_achieved(),),
    "missed": (goal_missed(),),
    "cancelled": (goal_cancelled(),),
    "entered_in_error": (goal_corrected(),),
}
_ALL: frozenset[GoalStatus] = frozenset(_STATUS_EVENTS)
_OPEN: frozenset[GoalStatus] = frozenset({"active", "paused"})

# name: (command, the one event it emits where allowed, the status afterwards, allowed statuses)
_COMMANDS: dict[str, tuple[GoalCommand, GoalEvent, GoalStatus | None, frozenset[GoalStatus]]] = {
    "adjust": (
        adjust_goal(TermsChange(priority="low")),
        GoalAdjusted(
            GOAL_ID, TermsChange(priority="high"), TermsChange(priority="low"), "Agreed in session"
        ),
        None,
        _OPEN,
    ),
    "record_progress": (
        record_progress(check_in_id=OTHER_CHECK_IN_ID),
        progress_recorded(OTHER_CHECK_IN_ID),
        None,
        frozenset({"active"}),
    ),
    "achieve": (mark_achieved(), goal_achieved(), "achieved", _OPEN),
    "miss": (record_miss(), goal_missed(), "missed", _OPEN),
    "pause": (pause_goal(), goal_paused(), "paused", frozenset({"active"})),
    "resume": (resume_goal(), goal_resumed(), "active", frozenset({"paused"})),
    "cancel": (cancel_goal(), goal_cancelled(), "cancelled", _OPEN),
    "correct_goal": (
        correct_goal(),
        goal_corrected(),
        "entered_in_error",
        _ALL - {"entered_in_error"},
    ),
    "correct_check_in": (
        correct_check_in(),
        check_in_corrected(),
        None,
        _ALL - {"entered_in_error"},
    ),
    "add_supporter": (
        add_supporter(OTHER_SUPPORTER_ID),
        SupporterAdded(GOAL_ID, OTHER_SUPPORTER_ID),
        None,
        _ALL - {"entered_in_error"},
    ),
    "remove_supporter": (
        remove_supporter(SUPPORTER_ID),
        SupporterRemoved(GOAL_ID, SUPPORTER_ID),
        None,
        _ALL - {"entered_in_error"},
    ),
    "rate": (rate_goal(2), goal_rated(2), None, _ALL - {"entered_in_error"}),
}

_CASES = [
    pytest.param(name, status, id=f"{name} when {status}")
    for name in _COMMANDS
    for status in _STATUS_EVENTS
]


@pytest.mark.parametrize(("name", "status"), _CASES)
def test_each_command_is_allowed_exactly_in_its_statuses(name: str, status: GoalStatus) -> None:
    command, event, status_afterwards, allowed = _COMMANDS[name]
    scenario = given(*_OPENING, *_STATUS_EVENTS[status]).when(command)

    if status in allowed:
        state = scenario.then(event)
        assert isinstance(state, Goal)
        assert state.status == (status_afterwards or status)
    else:
        scenario.then_rejected("goal_status_conflict")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("achieved", "already achieved"),
        ("missed", "closed as missed"),
        ("cancelled", "cancelled"),
        ("entered_in_error", "marked as entered in error"),
    ],
)
def test_a_status_conflict_says_what_the_goal_is_and_what_was_refused(
    status: GoalStatus, words: str
) -> None:
    violation = (
        given(*_OPENING, *_STATUS_EVENTS[status])
        .when(pause_goal())
        .then_rejected("goal_status_conflict")
    )

    assert violation.message == f"This goal is {words}, so it cannot be paused."
