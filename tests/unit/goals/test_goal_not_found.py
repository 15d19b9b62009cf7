import pytest

from domain.goals.commands import GoalCommand
from domain.goals.events import TermsChange
from tests.unit.goals.builders import (
    add_supporter,
    adjust_goal,
    cancel_goal,
    correct_check_in,
    correct_goal,
    given,
    mark_achieved,
    pause_goal,
    rate_goal,
    record_miss,
    record_progress,
    remove_supporter,
    resume_goal,
)

_COMMANDS_ON_A_GOAL = [
    pytest.param(adjust_goal(TermsChange(priority="low")), id="adjust"),
    pytest.param(record_progress(), id="record progress"),
    pytest.param(mark_achieved(), id="achieve"),
    pytest.param(record_miss(), id="miss"),
    pytest.param(pause_goal(), id="pause"),
    pytest.param(resume_goal(), id="resume"),
    pytest.param(cancel_goal(), id="cancel"),
    pytest.param(correct_goal(), id="correct goal"),
    pytest.param(correct_check_in(), id="correct check-in"),
    pytest.param(add_supporter(), id="add supporter"),
    pytest.param(remove_supporter(), id="remove supporter"),
    pytest.param(rate_goal(), id="rate"),
]


@pytest.mark.parametrize("command", _COMMANDS_ON_A_GOAL)
def test_commands_on_a_goal_that_was_never_set_are_refused(command: GoalCommand) -> None:
    given().when(command).then_rejected("goal_not_found")
