"""A goal as of a moment is the fold of the events recorded by then, at every step of a history."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.goals.as_of import goal_as_of
from domain.goals.record import goal_record
from domain.goals.state import fold
from domain.goals.view import goal_detail
from tests.unit.goals.builders import NOW, goal_paused, goal_set, progress_recorded
from tests.unit.goals.fhir_histories import Stamped, stamp, stamped_histories


def _expected(prefix: list[Stamped]) -> tuple[object, object, object]:
    events = [event for event, _ in prefix]
    return fold(events), goal_detail(events), goal_record(prefix)


@given(stamped_histories(), st.data())
def test_as_of_each_step_is_the_fold_of_its_prefix(
    history: list[Stamped], data: st.DataObject
) -> None:
    for step, (_, stamped) in enumerate(history, start=1):
        # Exactly at the event, and at any moment before the next one.
        gap = (
            history[step][1].recorded_at - stamped.recorded_at
            if step < len(history)
            else timedelta(days=400)
        )
        later = data.draw(st.timedeltas(timedelta(0), gap - timedelta(microseconds=1)))
        for moment in (stamped.recorded_at, stamped.recorded_at + later):
            seen = goal_as_of(history, moment)
            assert seen is not None
            assert (seen.state, seen.detail, seen.record) == _expected(history[:step])
            assert seen.record.version == step


@given(stamped_histories())
def test_before_the_goal_was_set_there_is_no_goal(history: list[Stamped]) -> None:
    first_moment = history[0][1].recorded_at
    assert goal_as_of(history, first_moment - timedelta(microseconds=1)) is None


def test_a_version_is_never_seen_without_the_versions_before_it() -> None:
    """Version 3 recorded a moment before version 2 (two racing writers): a moment between
    them sees version 1 only, not a history with a hole."""
    history: list[Stamped] = [
        (goal_set(), stamp(1, NOW)),
        (progress_recorded(), stamp(2, NOW + timedelta(seconds=2))),
        (goal_paused(), stamp(3, NOW + timedelta(seconds=1))),
    ]
    between = goal_as_of(history, NOW + timedelta(seconds=1, milliseconds=500))
    assert between is not None
    assert between.record.version == 1
    assert between.detail.check_in_count == 0
    assert between.detail.status == "active"
    after = goal_as_of(history, NOW + timedelta(seconds=2))
    assert after is not None
    assert after.record.version == 3
