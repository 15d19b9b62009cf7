"""Folds refuse an event the log could not hold where it stands, with an error that says so.

These are ValueErrors, so that a consumer that stops at a malformed event stops at them too.
"""

from datetime import UTC, datetime

import pytest

from domain.goals.fold_errors import EventOutOfOrder, IncompleteEvent, VersionGap
from domain.goals.summary import EventFacts, GoalSummary, summarize
from domain.goals.view import advance, goal_detail
from tests.unit.goals.builders import goal_paused, goal_set, progress_recorded

_AT = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _facts(version: int) -> EventFacts:
    return EventFacts(version, position=version, recorded_at=_AT, clinic_id=None)


def _summary() -> GoalSummary:
    return summarize(None, goal_set(), _facts(1))


def test_the_fold_errors_are_value_errors() -> None:
    for error in (EventOutOfOrder, VersionGap, IncompleteEvent):
        assert issubclass(error, ValueError)


def test_a_goal_read_from_a_stream_that_does_not_start_with_its_setting_is_refused() -> None:
    with pytest.raises(EventOutOfOrder, match="first event is goal_set, not GoalPaused"):
        goal_detail([goal_paused()])


def test_a_goal_read_as_set_twice_is_refused() -> None:
    detail = goal_detail([goal_set()])
    assert detail is not None

    with pytest.raises(EventOutOfOrder, match="already set"):
        advance(detail, [goal_set()])


def test_a_summary_that_does_not_start_with_the_goals_setting_is_refused() -> None:
    with pytest.raises(EventOutOfOrder, match="first event is goal_set, not GoalPaused"):
        summarize(None, goal_paused(), _facts(1))


def test_a_summary_of_a_goal_set_twice_is_refused() -> None:
    with pytest.raises(EventOutOfOrder, match="set once"):
        summarize(_summary(), goal_set(), _facts(2))


@pytest.mark.parametrize("version", [1, 3])
def test_a_summary_refuses_an_event_that_is_not_the_next_version(version: int) -> None:
    with pytest.raises(VersionGap, match=f"version {version} does not follow 1"):
        summarize(_summary(), progress_recorded(), _facts(version))
