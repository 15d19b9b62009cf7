"""A check-in decided on an older fold of its goal stays right after the events `still_decided`
lets through: the premise of appending check-ins without deciding them again.

A check-in's outcome here is what the writer answers: the decision, after the log's index on
check-in ids, which refuses an id the goal holds before any rule (infra/goals/writer.py)."""

from datetime import timedelta
from uuid import UUID

from hypothesis import assume
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.goals.commands import RecordProgress
from domain.goals.commutation import still_decided
from domain.goals.decider import decide
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import GoalEvent, ProgressRecorded
from domain.goals.state import fold
from tests.unit.goals.builders import (
    CHECK_IN_AT,
    CHECK_IN_ID,
    GOAL_ID,
    HISTORY_BY_STATUS,
    NOW,
    START,
    goal_achieved,
    goal_cancelled,
    goal_corrected,
    goal_paused,
    goal_rated,
    goal_resumed,
    goal_set,
    measure,
    on_record,
    progress_recorded,
    record_progress,
    supporter_added,
    terms,
)

_CHECK_IN_IDS = [UUID(int=n) for n in range(1, 5)]
_MOMENTS = [
    CHECK_IN_AT,
    NOW + timedelta(days=2),  # in the future
    NOW.replace(year=START.year - 1),  # before the goal started
]
_AMOUNTS = [1.0, 2.0, 0.0, -1.0, 1.5, 11.0, float("nan")]

_check_ins = st.builds(
    lambda check_in_id, amount: ProgressRecorded(GOAL_ID, check_in_id, amount, CHECK_IN_AT),
    st.sampled_from(_CHECK_IN_IDS),
    st.sampled_from([1.0, 3.0]),
)
_histories = st.builds(
    lambda opening, kind, check_ins: [
        goal_set(terms=terms(measure=measure(kind=kind, target=5.0))),
        *opening[1:],
        *check_ins,
    ],
    st.sampled_from(list(HISTORY_BY_STATUS.values())),
    st.sampled_from(["count", "done", "duration_minutes", "rating_0_10"]),
    st.lists(_check_ins, max_size=3, unique_by=lambda event: event.check_in_id),
)
_commands = st.builds(
    lambda check_in_id, amount, occurred_at: record_progress(
        check_in_id=check_in_id, amount=amount, occurred_at=occurred_at
    ),
    st.sampled_from(_CHECK_IN_IDS),
    st.sampled_from(_AMOUNTS),
    st.sampled_from(_MOMENTS),
)
_other_events: list[GoalEvent] = [
    goal_paused(),
    goal_resumed(),
    goal_achieved(),
    goal_cancelled(),
    goal_corrected(),
    goal_rated(),
    supporter_added(),
]


def _outcome(command: RecordProgress, history: list[GoalEvent]) -> object:
    if on_record(history, command.check_in_id).recorded:
        return ("check_in_exists", None)
    try:
        return decide(command, fold(history))
    except GoalRuleViolation as violation:
        return (violation.code, violation.field)


_since = st.lists(_check_ins | st.sampled_from(_other_events), max_size=4)


@for_all(_histories, _commands, _since)
def test_a_decision_stays_right_after_what_still_decided_lets_through(
    history: list[GoalEvent], command: RecordProgress, since: list[GoalEvent]
) -> None:
    assume(_applicable(history, since) and still_decided(command, since))

    assert _outcome(command, [*history, *since]) == _outcome(command, history)


def _applicable(history: list[GoalEvent], since: list[GoalEvent]) -> bool:
    """Whether `since` could follow `history` in a log: each check-in id is recorded once."""
    seen = {event.check_in_id for event in history if isinstance(event, ProgressRecorded)}
    for event in since:
        if isinstance(event, ProgressRecorded):
            if event.check_in_id in seen:
                return False
            seen.add(event.check_in_id)
    return True


def test_the_same_check_in_recorded_meanwhile_is_not_let_through() -> None:
    command = record_progress()
    history: list[GoalEvent] = [goal_set()]
    since: list[GoalEvent] = [progress_recorded(CHECK_IN_ID)]

    assert not still_decided(command, since)
    assert _outcome(command, history) != _outcome(command, [*history, *since])


def test_every_other_kind_of_event_is_not_let_through() -> None:
    for event in _other_events:
        assert not still_decided(record_progress(), [progress_recorded(UUID(int=9)), event])


def test_nothing_since_leaves_any_decision_as_it_was() -> None:
    assert still_decided(record_progress(), [])
