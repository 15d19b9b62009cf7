import pytest

from domain.goals.events import GoalEvent, SupporterAdded, SupporterRemoved
from domain.goals.state import Goal
from tests.unit.goals.builders import (
    CLIENT_ID,
    GOAL_ID,
    OTHER_SUPPORTER_ID,
    SUPPORTER_ID,
    add_supporter,
    given,
    goal_achieved,
    goal_cancelled,
    goal_missed,
    goal_paused,
    goal_set,
    remove_supporter,
    supporter_added,
)


def test_a_supporter_is_added_to_the_goal() -> None:
    state = (
        given(goal_set())
        .when(add_supporter(SUPPORTER_ID))
        .then(SupporterAdded(GOAL_ID, SUPPORTER_ID))
    )

    assert isinstance(state, Goal)
    assert state.supporters == frozenset({SUPPORTER_ID})


def test_several_supporters_can_follow_a_goal() -> None:
    state = (
        given(goal_set(), supporter_added(SUPPORTER_ID))
        .when(add_supporter(OTHER_SUPPORTER_ID))
        .then(SupporterAdded(GOAL_ID, OTHER_SUPPORTER_ID))
    )

    assert isinstance(state, Goal)
    assert state.supporters == frozenset({SUPPORTER_ID, OTHER_SUPPORTER_ID})


def test_the_client_cannot_be_their_own_supporter() -> None:
    given(goal_set()).when(add_supporter(CLIENT_ID)).then_rejected(
        "supporter_is_client", "supporter_id"
    )


def test_a_supporter_is_added_once() -> None:
    given(goal_set(), supporter_added()).when(add_supporter()).then_rejected(
        "supporter_exists", "supporter_id"
    )


def test_a_supporter_is_removed_from_the_goal() -> None:
    state = (
        given(goal_set(), supporter_added(SUPPORTER_ID), supporter_added(OTHER_SUPPORTER_ID))
        .when(remove_supporter(SUPPORTER_ID))
        .then(SupporterRemoved(GOAL_ID, SUPPORTER_ID))
    )

    assert isinstance(state, Goal)
    assert state.supporters == frozenset({OTHER_SUPPORTER_ID})


def test_only_a_following_supporter_can_be_removed() -> None:
    given(goal_set(), supporter_added(OTHER_SUPPORTER_ID)).when(
        remove_supporter(SUPPORTER_ID)
    ).then_rejected("supporter_not_found", "supporter_id")


def test_a_removed_supporter_can_be_added_again() -> None:
    history = (goal_set(), supporter_added(), SupporterRemoved(GOAL_ID, SUPPORTER_ID))

    given(*history).when(remove_supporter()).then_rejected("supporter_not_found", "supporter_id")
    given(*history).when(add_supporter()).then(supporter_added())


@pytest.mark.parametrize(
    "status_event",
    [goal_paused(), goal_achieved(), goal_missed(), goal_cancelled()],
    ids=["paused", "achieved", "missed", "cancelled"],
)
def test_supporters_can_change_after_the_goal_closes(status_event: GoalEvent) -> None:
    given(goal_set(), status_event).when(add_supporter()).then(supporter_added())
    given(goal_set(), supporter_added(), status_event).when(remove_supporter()).then(
        SupporterRemoved(GOAL_ID, SUPPORTER_ID)
    )
