from datetime import date

import pytest

from domain.goals.events import (
    CorrectionRecorded,
    GoalAdjusted,
    GoalEvent,
    SupporterRemoved,
    TermsChange,
)
from domain.goals.fold_errors import EventOutOfOrder, IncompleteEvent
from domain.goals.state import Goal, NoGoal, evolve, fold
from tests.unit.goals.builders import (
    CHECK_IN_ID,
    CLIENT_ID,
    GOAL_ID,
    OTHER_CHECK_IN_ID,
    OTHER_GOAL_ID,
    OTHER_SUPPORTER_ID,
    SUPPORTER_ID,
    check_in_corrected,
    goal_achieved,
    goal_paused,
    goal_rated,
    goal_resumed,
    goal_set,
    progress_recorded,
    supporter_added,
    terms,
)

_HISTORY: list[GoalEvent] = [
    goal_set(replaces=OTHER_GOAL_ID),
    supporter_added(SUPPORTER_ID),
    progress_recorded(CHECK_IN_ID),
    GoalAdjusted(
        GOAL_ID,
        TermsChange(due_date=date(2025, 6, 30), priority="high"),
        TermsChange(due_date=date(2025, 8, 31), priority="medium"),
        "More time",
    ),
    goal_paused(),
    goal_resumed(),
    progress_recorded(OTHER_CHECK_IN_ID),
    check_in_corrected(CHECK_IN_ID),
    supporter_added(OTHER_SUPPORTER_ID),
    SupporterRemoved(GOAL_ID, SUPPORTER_ID),
    goal_achieved(),
    goal_rated(2),
]


def test_folding_a_history_gives_the_goal_it_describes() -> None:
    assert fold(_HISTORY) == Goal(
        goal_id=GOAL_ID,
        client_id=CLIENT_ID,
        terms=terms(due_date=date(2025, 8, 31), priority="medium"),
        status="achieved",
        replaces=OTHER_GOAL_ID,
        check_ins_recorded=2,
        supporters=frozenset({OTHER_SUPPORTER_ID}),
    )


@pytest.mark.parametrize("split", range(len(_HISTORY) + 1))
def test_folding_can_continue_from_a_saved_state(split: int) -> None:
    assert fold(_HISTORY[split:], fold(_HISTORY[:split])) == fold(_HISTORY)


def test_an_adjustment_is_folded_from_its_after_values_only() -> None:
    # `before` deliberately disagrees with the goal: the fold must not read it.
    adjusted = GoalAdjusted(
        GOAL_ID, TermsChange(statement="ignored"), TermsChange(cue=None), "No cue needed"
    )

    state = fold([goal_set(), adjusted])

    assert isinstance(state, Goal)
    assert state.terms == terms(cue=None)


def test_events_before_the_goal_is_set_cannot_be_applied() -> None:
    with pytest.raises(EventOutOfOrder, match="GoalPaused cannot apply to NoGoal"):
        evolve(NoGoal(), goal_paused())


def test_a_goal_cannot_be_set_over_an_existing_one() -> None:
    with pytest.raises(EventOutOfOrder, match="GoalSet cannot apply to Goal"):
        fold([goal_set(), goal_set()])


def test_a_check_in_correction_without_a_check_in_cannot_be_applied() -> None:
    malformed = CorrectionRecorded(GOAL_ID, "check_in", "Typo")

    with pytest.raises(IncompleteEvent, match="names no check-in"):
        fold([goal_set(), malformed])
