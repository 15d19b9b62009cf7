"""Goal Attainment Scaling: a therapist rates how far a goal was attained, from -2 to +2."""

import pytest

from domain.goals.commands import Actor
from domain.goals.events import GoalEvent, GoalRated
from domain.goals.state import Goal
from tests.unit.goals.builders import (
    CLIENT,
    GOAL_ID,
    SUPPORTER_ID,
    given,
    goal_achieved,
    goal_cancelled,
    goal_corrected,
    goal_missed,
    goal_paused,
    goal_rated,
    goal_set,
    rate_goal,
)


@pytest.mark.parametrize("rating", [-2, -1, 0, 1, 2])
def test_a_therapist_rates_attainment_from_minus_two_to_plus_two(rating: int) -> None:
    state = (
        given(goal_set(), goal_achieved())
        .when(rate_goal(rating, note="Better than expected"))
        .then(GoalRated(GOAL_ID, rating, "Better than expected"))
    )

    # A rating is a fact for reports; it does not change what the goal accepts next.
    assert state == given(goal_set(), goal_achieved()).state


@pytest.mark.parametrize(
    "status_events",
    [(), (goal_paused(),), (goal_missed(),), (goal_cancelled(),), (goal_rated(),)],
    ids=["active", "paused", "missed", "cancelled", "already rated"],
)
def test_any_goal_not_entered_in_error_can_be_rated(status_events: tuple[GoalEvent, ...]) -> None:
    state = given(goal_set(), *status_events).when(rate_goal(-1)).then(goal_rated(-1))

    assert isinstance(state, Goal)


def test_a_goal_entered_in_error_cannot_be_rated() -> None:
    given(goal_set(), goal_corrected()).when(rate_goal()).then_rejected("goal_status_conflict")


@pytest.mark.parametrize(
    "actor",
    [CLIENT, Actor(SUPPORTER_ID, "supporter"), Actor(SUPPORTER_ID, "admin")],
    ids=["client", "supporter", "admin"],
)
def test_only_a_therapist_rates_attainment(actor: Actor) -> None:
    given(goal_set(), goal_achieved()).when(rate_goal(actor=actor)).then_rejected(
        "rating_by_therapist_only"
    )


@pytest.mark.parametrize("rating", [-3, 3, 10])
def test_ratings_outside_minus_two_to_plus_two_are_refused(rating: int) -> None:
    given(goal_set(), goal_achieved()).when(rate_goal(rating)).then_rejected(
        "rating_out_of_range", "rating"
    )


def test_a_rating_note_longer_than_2000_characters_is_refused() -> None:
    given(goal_set(), goal_achieved()).when(rate_goal(note="x" * 2001)).then_rejected(
        "text_too_long", "note"
    )


def test_a_rating_note_may_be_empty() -> None:
    given(goal_set()).when(rate_goal(0, note="")).then(goal_rated(0, note=""))
