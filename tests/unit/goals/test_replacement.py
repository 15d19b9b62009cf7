"""check_replacement: a new goal may replace only a finished or paused goal of the same client."""

import pytest

from domain.goals.decider import check_replacement
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import GoalEvent
from domain.goals.state import NoGoal, fold
from tests.unit.goals.builders import (
    GOAL_ID,
    OTHER_CLIENT_ID,
    OTHER_GOAL_ID,
    goal_achieved,
    goal_cancelled,
    goal_corrected,
    goal_missed,
    goal_paused,
    goal_resumed,
    goal_set,
    set_goal,
)

_REPLACEMENT = set_goal(goal_id=OTHER_GOAL_ID, replaces=GOAL_ID)


def _refusal(replaced_history: list[GoalEvent]) -> GoalRuleViolation:
    with pytest.raises(GoalRuleViolation) as raised:
        check_replacement(fold(replaced_history), _REPLACEMENT)
    return raised.value


@pytest.mark.parametrize(
    "status_event",
    [goal_achieved(), goal_missed(), goal_cancelled(), goal_paused()],
    ids=["achieved", "missed", "cancelled", "paused"],
)
def test_a_finished_or_paused_goal_can_be_replaced(status_event: GoalEvent) -> None:
    check_replacement(fold([goal_set(), status_event]), _REPLACEMENT)


@pytest.mark.parametrize(
    "history",
    [[goal_set()], [goal_set(), goal_paused(), goal_resumed()]],
    ids=["active", "resumed"],
)
def test_an_active_goal_cannot_be_replaced(history: list[GoalEvent]) -> None:
    violation = _refusal(history)

    assert (violation.code, violation.field) == ("replaced_goal_open", "replaces")


def test_a_goal_entered_in_error_cannot_be_replaced_as_it_never_was() -> None:
    violation = _refusal([goal_set(), goal_corrected()])

    assert (violation.code, violation.field) == ("replaced_goal_not_found", "replaces")


def test_a_goal_that_does_not_exist_cannot_be_replaced() -> None:
    with pytest.raises(GoalRuleViolation) as raised:
        check_replacement(NoGoal(), _REPLACEMENT)

    assert (raised.value.code, raised.value.field) == ("replaced_goal_not_found", "replaces")


def test_another_clients_goal_cannot_be_replaced() -> None:
    violation = _refusal([goal_set(client_id=OTHER_CLIENT_ID), goal_achieved()])

    assert (violation.code, violation.field) == ("replaced_goal_not_found", "replaces")
